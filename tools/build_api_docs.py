"""Builds the API reference (HTML, from the Google-style docstrings) with pdoc: ``make docs``.

Every module of the package is documented, found by walking the source tree (the subpackages load their
members lazily, so pdoc is given the modules themselves). Modules of an optional extra that is not
installed are skipped with a note. Output: ``build/api/index.html`` (or the folder given as argument).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
import warnings
from pathlib import Path

__all__ = ["build", "module_names"]

ROOT = Path(__file__).resolve().parent.parent


def module_names() -> list[str]:
    """Every importable caloforge module, packages first; those whose optional extra is missing are left out."""
    import caloforge

    names = ["caloforge"]
    for info in pkgutil.walk_packages(caloforge.__path__, prefix="caloforge."):
        if info.name.rsplit(".", 1)[-1].startswith("_") or info.name.startswith("caloforge.cli"):
            continue
        try:
            importlib.import_module(info.name)
        except ImportError as err:
            sys.stderr.write(f"api docs: {info.name} skipped ({err})\n")
            continue
        names.append(info.name)
    return names


def build(out: Path) -> Path:
    """Writes the reference to ``out``; returns its index page."""
    import pdoc
    import pdoc.render

    pdoc.render.configure(docformat="google", show_source=False, search=True)
    logging.getLogger("pdoc").setLevel(logging.ERROR)  # lazy package members are listed from their modules
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pdoc.pdoc(*module_names(), output_directory=out)
    return out / "index.html"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "api"
    index = build(target)
    pages = sum(1 for _ in target.rglob("*.html"))
    sys.stdout.write(f"API reference: {pages} pages, open {index}\n")
