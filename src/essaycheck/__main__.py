"""``python -m essaycheck``: the same command line as the ``essaycheck`` command."""

from .cli import main

if __name__ == "__main__":
    main()
