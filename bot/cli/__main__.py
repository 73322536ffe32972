"""`python -m bot.cli`: the `fuqing` command line."""

from bot.cli import main

main()
