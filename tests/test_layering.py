"""The reports know nothing of HTTP: importing them must not pull in the web stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPORTS = Path(__file__).parent.parent / "insights" / "reports"


def test_reports_never_import_fastapi_or_starlette() -> None:
    modules = sorted(f"insights.reports.{p.stem}" for p in REPORTS.glob("*.py"))
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert len(modules) >= 6
    assert result.stdout.strip() == "[]"
