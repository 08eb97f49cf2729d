"""`python -m afisha` is the `afisha` command."""

from afisha.cli import main

main()
