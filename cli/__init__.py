"""The `vigia` command line: parses arguments and dispatches to the stage packages."""
