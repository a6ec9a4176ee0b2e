"""Architecture checks: imports point down the layer order, modules stay small, files carry __all__."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "caloforge"

# Lower number = lower layer. A module may import its own layer or any lower one.
LAYERS = {
    "registry": 0,
    "config": 0,
    "typing": 0,
    "_version": 0,
    "atomic": 0,
    "oserrors": 0,
    "geometry": 1,
    "data": 2,
    "simulate": 3,
    "nn": 3,
    "solvers": 3,
    "device": 3,
    "models": 4,
    "training": 5,
    "sampling": 5,
    "distributed": 6,
    "evaluation": 6,
    "export": 6,
    "bench": 7,
    "pipeline": 8,
    "cli": 9,
}
# Documented exceptions: (importer package, imported package).
ALLOWED: set[tuple[str, str]] = set()
MAX_LINES = 450


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p.name != "_version.py")


def _package_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "caloforge" and len(parts) > 1:
                out.add(parts[1])
    return out


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path: Path) -> None:
    own = _package_of(path)
    if own in {"__init__", "__main__"}:
        return
    assert own in LAYERS, f"{own} is not placed in the layer table"
    for target in _imported_packages(path):
        if target not in LAYERS or (own, target) in ALLOWED:
            continue
        assert LAYERS[target] <= LAYERS[own], f"{path.relative_to(SRC)} ({own}) imports higher layer {target}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_module_hygiene(path: Path) -> None:
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_LINES, f"{path.name} has more than {MAX_LINES} lines: split it by concept"
    tree = ast.parse(text)
    assert ast.get_docstring(tree), f"{path.name} needs a module docstring"
    assert "from __future__ import annotations" in text
    if path.name != "__main__.py":
        assert any(
            (isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets))
            or (isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.target.id == "__all__")
            for n in tree.body
        ), f"{path.name} must declare __all__"
    assert path.stem not in {"utils", "helpers", "misc"}
