"""Whether PyTorch is importable, and the error a torch-bound name gives on a light install.

The model families need PyTorch; listing and verifying the zoo does not. ``caloforge.models`` and
``caloforge.models.pretrained`` import their torch-bound names only when :data:`TORCH_AVAILABLE`, and
otherwise answer them with :func:`lazy_torch_names`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

__all__ = ["TORCH_AVAILABLE", "lazy_torch_names"]

try:
    import torch as _torch  # noqa: F401  (only its presence matters here)
except ModuleNotFoundError:
    TORCH_AVAILABLE = False
else:
    TORCH_AVAILABLE = True


def lazy_torch_names(module: str, names: Collection[str]) -> Callable[[str], Any]:
    """A module ``__getattr__``: ``names`` raise a one-line "needs PyTorch" error, anything else AttributeError."""

    def __getattr__(name: str) -> Any:
        if name in names:
            msg = f"{module}.{name} needs PyTorch (pip install 'caloforge[torch]')"
            raise ModuleNotFoundError(msg, name="torch")
        msg = f"module {module!r} has no attribute {name!r}"
        raise AttributeError(msg)

    return __getattr__
