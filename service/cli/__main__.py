"""`python -m service.cli` runs the gradflow command (same as the console script)."""

from service.cli import main

main()
