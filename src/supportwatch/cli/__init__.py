"""The `supportwatch` command line: scan, local and query."""
