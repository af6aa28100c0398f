"""The command-line interface: the only layer that knows terminals and exit codes."""
