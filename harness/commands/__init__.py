"""One module per `invoice-chaos` subcommand (see harness/cli.py)."""
