"""The ``caloforge`` command line: one module per subcommand, each a thin layer over the library."""

from __future__ import annotations

__all__: list[str] = []
