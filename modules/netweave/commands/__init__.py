"""One module per ``netweave`` subcommand (see modules/cli.py)."""
