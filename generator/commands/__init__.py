"""One module per `kb` subcommand: `HELP`, `configure(parser)`, `run(args) -> exit status`."""
