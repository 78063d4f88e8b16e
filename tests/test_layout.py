"""The house rules of STYLE.md, checked on the source: imports run one way, no two modules import
each other, and `connectors/` and `analytics/` know neither Flask nor the database."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("service", "connectors", "analytics")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path) -> set[str]:
    """Every module `path` imports, at its top or inside a function (type-checking-only ones too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


GRAPH = {name: {other for other in imports(path) if other in modules()} for name, path in modules().items()}


def test_no_two_modules_import_each_other() -> None:
    pairs = sorted({tuple(sorted((a, b))) for a, deps in GRAPH.items() for b in deps if a != b and a in GRAPH.get(b, ())})
    assert pairs == []


@pytest.mark.parametrize(("layer", "forbidden"), [
    pytest.param("connectors", ("service", "analytics", "flask", "sqlalchemy"), id="connectors"),
    pytest.param("analytics", ("service", "flask", "sqlalchemy"), id="analytics"),
    pytest.param("service.store", ("service.jobs", "service.web", "service.cli", "service.commands", "flask"), id="store"),
    pytest.param("service.jobs", ("service.web", "service.cli", "service.commands", "flask"), id="jobs"),
    pytest.param("service.web", ("service.cli", "service.commands"), id="web"),
    pytest.param("service.commands", ("service.cli",), id="commands"),
])
def test_imports_run_one_way(layer: str, forbidden: tuple[str, ...]) -> None:
    wrong = sorted(f"{name} imports {dep}" for name, path in modules().items() if name == layer or name.startswith(layer + ".")
                   for dep in imports(path) if any(dep == f or dep.startswith(f + ".") for f in forbidden))
    assert wrong == []
