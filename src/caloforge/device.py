"""Where tensors live: the one ``"auto"`` / ``"cpu"`` / ``"cuda"`` resolution every stage uses.

Example:
    >>> resolve_device("cpu")
    device(type='cpu')
"""

from __future__ import annotations

import torch

__all__ = ["resolve_device"]


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"``/``None`` → CUDA when available, else CPU; anything else as given.

    Raises:
        ValueError: If CUDA is requested but not available.
    """
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        msg = "device 'cuda' requested but CUDA is not available; use --device cpu or auto"
        raise ValueError(msg)
    return device
