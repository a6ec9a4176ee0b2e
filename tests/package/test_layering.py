"""Architecture checks: imports point down the layer order, modules stay small, files carry __all__."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "caloforge"

# Lower number = lower layer. A module may import its own package or any package of a lower layer,
# never one of its own layer: packages of one layer are independent of each other.
LAYERS = {
    "registry": 0,
    "typing": 0,
    "_version": 0,
    "oserrors": 0,
    "atomic": 1,
    "config": 2,
    "geometry": 3,
    "data": 4,
    "simulate": 5,
    "nn": 5,
    "solvers": 5,
    "device": 5,
    "threads": 5,
    "models": 6,
    "training": 7,
    "sampling": 7,
    "distributed": 8,
    "evaluation": 8,
    "export": 8,
    "bench": 9,
    "tuning": 9,
    "pipeline": 10,
    "cli": 11,
}
MAX_LINES = 400


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
        if target not in LAYERS or target == own:
            continue
        where = f"{path.relative_to(SRC)} ({own}, layer {LAYERS[own]})"
        assert LAYERS[target] != LAYERS[own], f"{where} imports {target} of its own layer"
        assert LAYERS[target] < LAYERS[own], f"{where} imports higher layer {target}"


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
