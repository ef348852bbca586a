"""Dependencies point one way: what runs (streams) → stages (agents) → state and models (tables,
scoring) → records (schemas). No lower layer imports a higher one or reads the environment."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import REPO

LAYER = {"schemas": 0, "scoring": 1, "tables": 1, "agents": 2, "streams": 3}


def modules(package: str):
    for path in sorted((REPO / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def imported_packages(tree: ast.AST) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out & set(LAYER)


@pytest.mark.parametrize("package", [p for p in LAYER if p != "streams"])
def test_no_lower_layer_imports_a_higher_one(package):
    upward = {str(path.relative_to(REPO)): sorted(p for p in imported_packages(tree) if LAYER[p] > LAYER[package])
              for path, tree in modules(package)}
    assert not {k: v for k, v in upward.items() if v}


@pytest.mark.parametrize("package", [p for p in LAYER if p != "streams"])
def test_no_lower_layer_reads_the_environment(package):
    readers = []
    for path, tree in modules(package):
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") and \
                    isinstance(node.value, ast.Name) and node.value.id == "os":
                readers.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not readers


def test_only_the_settings_module_reads_the_environment_in_streams():
    readers = [f"{path.relative_to(REPO)}:{node.lineno}" for path, tree in modules("streams")
               for node in ast.walk(tree)
               if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")]
    assert not readers  # pydantic-settings reads TRUEVOICE_* for streams/settings.py
