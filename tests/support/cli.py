"""The real `insights` command, run as a subprocess on a test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

INSIGHTS = str(Path(sys.executable).parent / "insights")


def cli_env(url: str, **settings: str) -> dict[str, str]:
    """This environment with INSIGHTS_DATABASE_URL=url, the given INSIGHTS_ settings (by
    field name) and no other."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSIGHTS_")}
    env["INSIGHTS_DATABASE_URL"] = url
    env.update({f"INSIGHTS_{name.upper()}": value for name, value in settings.items()})
    return env


def run_cli(url: str, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`insights *args` with INSIGHTS_DATABASE_URL=url and no other INSIGHTS_ setting than
    those given."""
    return subprocess.run(
        [INSIGHTS, *args],
        env=cli_env(url, **settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
