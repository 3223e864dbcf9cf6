"""The shipped rubrics; built into the wheel as the ``essaycheck.shipped_rubrics`` package
(found through ``essaycheck.resources``). Only the ``*.yaml`` files here are rubrics."""
