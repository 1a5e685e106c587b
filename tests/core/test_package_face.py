"""The package's lazy names are the ones its type-checking imports declare, from the same modules."""

from __future__ import annotations

import ast
from pathlib import Path

import onfh_volume


def _declared() -> dict[str, str]:
    """Name -> module of each ``from .module import name as name`` under ``if TYPE_CHECKING``."""
    tree = ast.parse(Path(onfh_volume.__file__).read_text())
    block = next(
        node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    return {
        alias.asname or alias.name: node.module or ""
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_type_checkers_see_every_lazy_name_from_its_home() -> None:
    assert _declared() == onfh_volume._HOME


def test_every_lazy_name_is_what_its_module_defines() -> None:
    import importlib

    for name, home in _declared().items():
        assert getattr(onfh_volume, name) is getattr(importlib.import_module(f"onfh_volume.{home}"), name)
