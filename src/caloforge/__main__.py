"""``python -m caloforge``: the command line (used by ``torchrun -m caloforge train ...``)."""

from __future__ import annotations

import sys

from caloforge.cli.main import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main())
