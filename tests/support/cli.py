"""The real `insights` command, run as a subprocess on a test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

INSIGHTS = str(Path(sys.executable).parent / "insights")


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`insights *args` with INSIGHTS_DATABASE_URL=url and no other INSIGHTS_ setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSIGHTS_")}
    env["INSIGHTS_DATABASE_URL"] = url
    return subprocess.run(
        [INSIGHTS, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
