#!/usr/bin/env python3
"""make_handouts: build baclofen patient leaflets. See README.md or `--help`."""

import sys

if __name__ == "__main__":
    try:  # Ctrl-C while the libraries load is one line too, not a traceback
        from handouts.cli import main
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(main())
