"""Stage stamps: a small JSON file per stage recording a hash of its inputs, so finished stages are skipped.

A stage is up to date when its ``stamp.json`` holds the same input key and every output it lists still
exists. The key hashes the stage's settings together with the keys of the stages it reads from (and, for
files that come from outside the run, their size and modification time), so a change anywhere upstream
re-runs everything downstream, and nothing else.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> key = input_key({"n": 10}, ["upstream-key"])
    >>> up_to_date(d, key)
    False
    >>> (d / "out.txt").write_text("x")
    1
    >>> write_stamp(d, StageStamp("demo", key, ["out.txt"], 0.5, {"n": 10}))
    >>> up_to_date(d, key), up_to_date(d, input_key({"n": 11}, ["upstream-key"]))
    (True, False)
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from caloforge.atomic import atomic_write_text

__all__ = ["STAMP_NAME", "StageStamp", "file_signature", "input_key", "read_stamp", "up_to_date", "write_stamp"]

STAMP_NAME = "stamp.json"


@dataclass(frozen=True)
class StageStamp:
    """What a finished stage leaves in its directory.

    Attributes:
        stage: Stage name (``train/vae``).
        key: Hash of the stage's inputs (:func:`input_key`).
        outputs: Output paths relative to the stage directory.
        seconds: Wall time of the stage, s.
        info: Small results other stages and the report read (times, metrics, file names).
        finished: UTC time the stage finished (ISO 8601).
    """

    stage: str
    key: str
    outputs: list[str]
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)
    finished: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def input_key(settings: Any, upstream: Sequence[str] = ()) -> str:
    """SHA-256 (16 hex digits) of the JSON of ``settings`` and the upstream keys."""
    text = json.dumps({"settings": settings, "upstream": list(upstream)}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_signature(path: str | Path) -> dict[str, Any]:
    """Identifies an external input file by resolved path, size and modification time.

    Raises:
        FileNotFoundError: If the file does not exist.
    """
    p = Path(path).resolve()
    if not p.is_file():
        msg = f"{p}: no such file"
        raise FileNotFoundError(msg)
    st = p.stat()
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def read_stamp(directory: str | Path) -> StageStamp | None:
    """The stamp in ``directory``, or ``None`` if absent or unreadable."""
    path = Path(directory) / STAMP_NAME
    try:
        data = json.loads(path.read_text())
        return StageStamp(**data)
    except (OSError, ValueError, TypeError):
        return None


def up_to_date(directory: str | Path, key: str) -> bool:
    """Whether the stage in ``directory`` finished with inputs ``key`` and its outputs still exist."""
    stamp = read_stamp(directory)
    if stamp is None or stamp.key != key:
        return False
    return all((Path(directory) / out).exists() for out in stamp.outputs)


def write_stamp(directory: str | Path, stamp: StageStamp) -> None:
    """Writes ``stamp.json`` (atomically) after the stage's outputs are complete."""
    atomic_write_text(Path(directory) / STAMP_NAME, json.dumps(asdict(stamp), indent=2, sort_keys=True, default=str) + "\n")
