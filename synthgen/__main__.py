"""`python -m synthgen` runs the command line."""

from synthgen.cli import main

main()
