"""Where tensors live: the one ``"auto"`` / ``"cpu"`` / ``"cuda"`` resolution every stage uses.

Under ``torchrun`` a bare ``"cuda"`` means the process's own GPU (``LOCAL_RANK``), so that models
loaded before the process group starts (a reflow teacher, say) do not all land on GPU 0.

Example:
    >>> resolve_device("cpu")
    device(type='cpu')
"""

from __future__ import annotations

import os

import torch

__all__ = ["resolve_device"]


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"``/``None`` → CUDA when available, else CPU; anything else as given.

    A bare CUDA device becomes ``cuda:LOCAL_RANK`` when ``LOCAL_RANK`` is set (torchrun).

    Raises:
        ValueError: If CUDA is requested but not available.
    """
    if device is None or str(device) == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        msg = "device 'cuda' requested but CUDA is not available; use --device cpu or auto"
        raise ValueError(msg)
    if str(device) == "cuda" and "LOCAL_RANK" in os.environ:  # no index given
        return torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    return device
