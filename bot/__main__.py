"""`python -m bot` is the `opsconductor` command."""

from bot.cli import main

main()
