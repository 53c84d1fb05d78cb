"""The shape of the code (CONTRIBUTING.md): short functions, one direction of imports,
the engine's public API as the only way in."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "forms", "webapp")
MAX_LINES = 60


def _modules(package: str) -> list[Path]:
    # not written by hand: migrations, and generated code (engine/schemafast_generated.py)
    return [p for p in sorted((ROOT / package).rglob("*.py")) if "migrations" not in p.parts
            and not p.name.endswith("_generated.py")]


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_function_is_longer_than_sixty_lines(package: str) -> None:
    long = [f"{path.relative_to(ROOT)}:{node.lineno} {node.name} "
            f"({node.end_lineno - node.lineno + 1} regels)"
            for path in _modules(package)
            for node in ast.walk(_tree(path))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno is not None and node.end_lineno - node.lineno + 1 > MAX_LINES]
    assert long == []


@pytest.mark.parametrize("package", ["forms", "webapp"])
def test_forms_and_webapp_use_only_the_engines_public_api(package: str) -> None:
    # The engine's command module is the one exception: the entry point adds its commands.
    allowed = {"meldroute.engine", "meldroute.engine.cli"}
    inner = [f"{path.relative_to(ROOT)}: {module}"
             for path in _modules(package) for module in _imports(path)
             if module.startswith("meldroute.engine") and module not in allowed]
    assert inner == []


def test_the_engine_imports_neither_flask_nor_the_other_packages() -> None:
    banned = ("flask", "wtforms", "sqlalchemy", "meldroute.forms", "meldroute.webapp")
    found = [f"{path.relative_to(ROOT)}: {module}"
             for path in _modules("engine") for module in _imports(path)
             if module.startswith(banned)]
    assert found == []


def test_only_the_runtime_imports_durable_rules() -> None:
    users = [path.name for path in _modules("engine")
             if any(m.split(".")[0] == "durable" for m in _imports(path))]
    assert users == ["runtime.py"]
