"""The `doxa` command line."""
