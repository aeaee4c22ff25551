"""`python -m handouts`: the same command line as `make_handouts`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
