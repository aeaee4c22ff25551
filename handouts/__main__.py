"""`python -m handouts`: the same command line as `make_handouts`."""

import sys

if __name__ == "__main__":
    try:  # Ctrl-C while the libraries load is one line too, not a traceback
        from .cli import main
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(main())
