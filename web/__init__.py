"""The student page's templates and static files; built into the wheel as the
``essaycheck.web_files`` package (found through ``essaycheck.resources``)."""
