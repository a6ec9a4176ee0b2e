"""Where an evaluation's numbers come from: caloforge version, date, command line and every input file.

Each input file is recorded with its path, size, number of showers, the first 16 hex digits of its SHA-256
(files over :data:`HASH_LIMIT_BYTES` are not hashed, which the record says) and the provenance attributes
the writer stored in it (``generator``, ``seed``, ``checkpoint`` or ``pretrained``, ``sampler``,
``energy_spec``, ...). :class:`Provenance` is the ``"provenance"`` entry of ``metrics.json`` and the
provenance block of ``report.html``.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.h5"
    >>> _ = path.write_bytes(b"abc")
    >>> info = file_info(path, 7, {"seed": 3, "geometry_name": "toy"})
    >>> info.sha256, info.size_bytes, info.attrs
    ('ba7816bf8f01cfea', 3, {'seed': 3, 'geometry_name': 'toy'})
"""

from __future__ import annotations

import hashlib
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from caloforge import __version__

__all__ = ["HASH_LIMIT_BYTES", "FileInfo", "Provenance", "file_info", "make_provenance"]

#: Files larger than this are not hashed (hashing would cost more than the evaluation of a small sample).
HASH_LIMIT_BYTES = 4 << 30
_ATTR_MAX_CHARS = 200


@dataclass(frozen=True)
class FileInfo:
    """One input file.

    Attributes:
        path: The path as given.
        size_bytes: Its size.
        n_events: Showers in it.
        sha256: First 16 hex digits of its SHA-256 (``None``: larger than :data:`HASH_LIMIT_BYTES`).
        attrs: The provenance attributes stored in the file (scalars and short strings only).
    """

    path: str
    size_bytes: int
    n_events: int
    sha256: str | None
    attrs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


@dataclass(frozen=True)
class Provenance:
    """What produced an evaluation.

    Attributes:
        caloforge_version: The package version.
        created_utc: When the evaluation ran (ISO 8601, UTC).
        command: The command line (``sys.argv``), empty when called from Python without one.
        python: Python version and platform.
        seed: The evaluation's random seed.
        files: ``"reference"`` and every generated label → its :class:`FileInfo`.
    """

    caloforge_version: str
    created_utc: str
    command: list[str]
    python: str
    seed: int
    files: dict[str, FileInfo] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``"provenance"`` in ``metrics.json``)."""
        return {**{k: v for k, v in asdict(self).items() if k != "files"},
                "files": {label: f.to_dict() for label, f in self.files.items()}}


def _sha256_prefix(path: Path, size: int) -> str | None:
    if size > HASH_LIMIT_BYTES:
        return None
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _short(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    return text if len(text) <= _ATTR_MAX_CHARS else text[:_ATTR_MAX_CHARS] + "…"


def file_info(path: str | Path, n_events: int, attrs: Mapping[str, Any] | None = None) -> FileInfo:
    """Size, SHA-256 prefix and stored attributes of one input file.

    Raises:
        OSError: If the file cannot be read.
    """
    p = Path(path)
    size = p.stat().st_size
    return FileInfo(str(path), size, int(n_events), _sha256_prefix(p, size),
                    {str(k): _short(v) for k, v in (attrs or {}).items()})


def make_provenance(files: Mapping[str, FileInfo], seed: int, command: Sequence[str] | None = None) -> Provenance:
    """The provenance of an evaluation run now (``command`` defaults to ``sys.argv``)."""
    argv = list(sys.argv if command is None else command)
    if argv and argv[0].endswith(("__main__.py", "caloforge")):
        argv[0] = "caloforge"
    return Provenance(__version__, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), argv,
                      f"Python {platform.python_version()} on {platform.system()} {platform.machine()}", seed,
                      dict(files))
