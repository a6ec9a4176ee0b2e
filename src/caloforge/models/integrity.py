"""Integrity of saved states: a SHA-256 content hash stored inside, and the zip archive's CRC-32s.

:func:`~caloforge.models.serialization.save_state` stores :func:`state_digest` of the state under
``"integrity"``; :func:`~caloforge.models.serialization.load_state` checks the CRC-32 of every member
of the archive (:func:`archive_problem`) and recomputes the digest, so a file damaged after it was
written (a bad disk, an interrupted copy, a flipped byte) is refused instead of yielding wrong
weights. The digest covers every tensor's dtype, shape and bytes and every plain value, in a
canonical order, so it does not depend on how ``torch.save`` lays the archive out.

Example:
    >>> import torch
    >>> a = {"w": torch.ones(3), "step": 10}
    >>> state_digest(a) == state_digest({"step": 10, "w": torch.ones(3)})
    True
    >>> state_digest(a) == state_digest({"w": torch.tensor([1.0, 1.0, 2.0]), "step": 10})
    False
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

__all__ = ["INTEGRITY_KEY", "archive_problem", "integrity_record", "state_digest"]

#: Key of the integrity record in a saved state: ``{"algorithm": "sha256", "digest": hex}``.
INTEGRITY_KEY = "integrity"


def _feed(h: Any, obj: Any) -> None:
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(obj, Mapping):
        h.update(f"D{len(obj)}|".encode())
        for key in sorted(obj, key=lambda k: (type(k).__name__, repr(k))):
            _feed(h, key)
            _feed(h, obj[key])
    elif isinstance(obj, list | tuple):
        h.update(f"{'L' if isinstance(obj, list) else 'U'}{len(obj)}|".encode())
        for item in obj:
            _feed(h, item)
    elif isinstance(obj, str):
        data = obj.encode("utf-8", "surrogatepass")
        h.update(f"S{len(data)}|".encode())
        h.update(data)
    elif isinstance(obj, bytes):
        h.update(f"B{len(obj)}|".encode())
        h.update(obj)
    else:  # None, bool, int, float, torch.dtype, ...: type and exact repr
        h.update(f"V{type(obj).__name__}:{obj!r}|".encode())


def state_digest(state: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of ``state`` without its integrity record."""
    h = hashlib.sha256()
    _feed(h, {k: v for k, v in state.items() if k != INTEGRITY_KEY})
    return h.hexdigest()


def integrity_record(state: Mapping[str, Any]) -> dict[str, str]:
    """The record stored under :data:`INTEGRITY_KEY`."""
    return {"algorithm": "sha256", "digest": state_digest(state)}


def archive_problem(path: str | Path) -> str | None:
    """Why the zip archive ``path`` is damaged (a CRC-32 mismatch, a broken header), or ``None``.

    Files that are not zip archives are not checked here (``torch.load`` reports them).
    """
    try:
        if not zipfile.is_zipfile(path):
            return None
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except Exception as err:  # noqa: BLE001 - any failure to walk the archive means it is damaged
        return f"damaged archive: {(str(err).splitlines() or [type(err).__name__])[0]}"
    return None if bad is None else f"CRC-32 mismatch in member {bad!r}"
