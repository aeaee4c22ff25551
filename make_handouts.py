#!/usr/bin/env python3
"""make_handouts: build baclofen patient leaflets. See README.md or `--help`."""

import sys

from handouts.cli import main

if __name__ == "__main__":
    sys.exit(main())
