"""`python -m leaklint`: the same as the `leaklint` command."""
import sys

from leaklint.cli import main

if __name__ == "__main__":
    sys.exit(main())
