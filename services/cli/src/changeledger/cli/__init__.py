"""The `changeledger` command line."""

from changeledger.cli.main import app, main

__all__ = ["app", "main"]
