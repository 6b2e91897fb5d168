"""The command line: `insights serve | migrate | demo | import | workspace | key | members |
alerts`."""

from insights.cli import alerts, commands, members  # noqa: F401 - each registers its commands on `main`
from insights.cli.base import main

__all__ = ["main"]
