"""Imports point down (DESIGN.md): the faces (api/, dashboard/, cli/) never import each
other; only members/ imports pyroaring; only the metrics modules import prometheus_client;
reports/, the SVG charts and the domain never import FastAPI, Starlette or the web layer."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "insights"
FACES = ("insights.api", "insights.dashboard", "insights.cli")
WEB = (*FACES, "insights.web", "insights.app")
FRAMEWORKS = ("fastapi", "starlette")
# Pure drawing and number formats: they live beside the pages but need no web framework.
DRAWING = ("insights.dashboard.charts", "insights.dashboard.formats")
# The metrics' declarations, and the collector that counts firing alerts in the database.
METRICS = ("insights.metrics", "insights.alerts.collector")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """The package's modules; Alembic's scripts run only inside Alembic, not imported."""
    paths = [p for p in sorted(PACKAGE.rglob("*.py")) if "migrations" not in p.parts]
    return {_module_name(path): path for path in paths}


@cache
def imports_of(module: str) -> frozenset[str]:
    """Every module `module` imports, at the top or inside a function."""
    tree = ast.parse(modules()[module].read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    # Importing a.b.c runs a/__init__ and a/b/__init__ first.
    parents = {name.rsplit(".", depth)[0] for name in found for depth in (1, 2, 3)}
    return frozenset(found | {name for name in parents if name in modules()})


def _under(name: str, roots: Iterable[str]) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


def reachable(module: str) -> set[str]:
    """Every module `module` imports, directly or through modules of the package."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        for name in imports_of(todo.pop()):
            if name not in seen:
                seen.add(name)
                if name in modules():
                    todo.append(name)
    return seen


def is_web(name: str) -> bool:
    """Part of the web layer or a web framework; the drawing modules (and the dashboard's
    package, a docstring) are not."""
    if _under(name, DRAWING) or name == "insights.dashboard":
        return False
    return _under(name, (*WEB, *FRAMEWORKS))


def below_the_web() -> list[str]:
    return [m for m in modules() if not is_web(m)]


def test_the_faces_never_import_each_other() -> None:
    for face in FACES:
        others = tuple(other for other in FACES if other != face)
        own = [m for m in modules() if _under(m, (face,))]
        offenders = {m: sorted(n for n in imports_of(m) if _under(n, others)) for m in own}
        assert not {m: n for m, n in offenders.items() if n}, face


def test_only_members_imports_pyroaring() -> None:
    outside = [m for m in modules() if not _under(m, ("insights.members",))]
    direct = {m: [n for n in imports_of(m) if _under(n, ("pyroaring",))] for m in outside}
    assert not {m: n for m, n in direct.items() if n}


def test_only_the_metrics_modules_import_prometheus_client() -> None:
    outside = [m for m in modules() if m not in METRICS]
    direct = {m: [n for n in imports_of(m) if _under(n, ("prometheus_client",))] for m in outside}
    assert not {m: n for m, n in direct.items() if n}


def test_the_metrics_module_needs_nothing_of_the_package() -> None:
    """The domain, members/, db and the web layer all feed it: it must sit below them all."""
    assert not [n for n in imports_of("insights.metrics") if _under(n, ("insights",))]


def test_reports_charts_and_the_domain_never_reach_the_web_layer() -> None:
    below = below_the_web()
    assert {"insights.reports.sync_health", "insights.dashboard.charts.venn"} <= set(below)
    offenders = {m: sorted(n for n in reachable(m) if is_web(n)) for m in below}
    assert {m: names for m, names in offenders.items() if names} == {}


def test_nothing_below_the_web_pulls_in_a_web_framework_when_imported() -> None:
    """The static walk above sees the package's own imports; this sees third parties'."""
    below = sorted(below_the_web())
    code = (
        "import importlib, sys\n"
        f"for name in {below!r}: importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'starlette'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
