"""``python -m dialer.cli`` runs the same command line as the ``dialer`` script."""

from dialer.cli import main

main()
