"""``python -m watchkeeper``: the same as the ``watchkeeper`` command."""

from watchkeeper.cli.main import main

main()
