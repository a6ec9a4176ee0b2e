"""Operating-system errors as one-line messages: :class:`OutputError` and :func:`describe_os_error`.

The command line prints these messages (exit code 2) instead of a traceback; the writers of
:mod:`caloforge.atomic` raise :class:`OutputError` for every failed output.

Example:
    >>> import errno
    >>> describe_os_error(OSError(errno.ENOSPC, "No space left on device"), "/x.h5")
    'no space left on device / writing /x.h5'
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

__all__ = ["OutputError", "describe_os_error", "error_for", "format_size", "is_write_error", "mount_point", "output_error"]

#: errno values that mean "the output could not be written" (reported as :class:`OutputError`).
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EACCES, errno.EPERM}


class OutputError(OSError):
    """An output file could not be written; the one-line message names the file and the reason.

    ``errno`` and ``filename`` are set as for the underlying :class:`OSError`.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "cannot write the output file"


def mount_point(path: Path) -> str:
    """The mount point of the file system holding ``path`` (which need not exist yet)."""
    p = Path(os.path.abspath(path))
    while not os.path.ismount(p) and p != p.parent:
        p = p.parent
    return str(p)


def format_size(n: float) -> str:
    """``1.23 GB``-style size of ``n`` bytes."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} TB"  # pragma: no cover


def describe_os_error(err: OSError, path: str | Path | None = None, *, action: str = "writing") -> str:
    """One line for an :class:`OSError`: what went wrong, with which file.

    Arguments:
        err: The error.
        path: The file concerned (default: the error's own file name).
        action: What was being done to it (``"writing"``, ``"reading"``; ``""`` when unknown).

    Example:
        >>> import errno
        >>> describe_os_error(OSError(errno.EACCES, "Permission denied"), "out/x.h5")
        'permission denied writing out/x.h5'
        >>> describe_os_error(OSError(errno.EACCES, "Permission denied", "in.h5"), action="")
        'permission denied: in.h5'
    """
    if isinstance(err, OutputError) or (err.errno is None and err.args and isinstance(err.args[0], str)):
        return str(err.args[0]).splitlines()[0] if err.args else type(err).__name__
    target = str(path if path is not None else (err.filename or "a file"))
    on = f" {action} {target}" if action else f": {target}"
    code = err.errno
    if code == errno.ENOSPC:
        return f"no space left on device {mount_point(Path(target))}{on}"
    if code == errno.EDQUOT:
        return f"disk quota exceeded on {mount_point(Path(target))}{on}"
    if code == errno.EROFS:
        return f"read-only file system{on}"
    if code in (errno.EACCES, errno.EPERM):
        return f"permission denied{on}"
    if code == errno.EISDIR:
        return f"{target} is a directory; give a file name"
    if code == errno.ENOTDIR:
        return f"{target}: a component of the path is not a directory"
    if code == errno.ENOENT:
        return f"{target}: no such file or directory"
    if code == errno.EPIPE:
        return "the output pipe was closed"
    if code == errno.EFBIG:
        return f"file too large (file size limit reached){on}"
    reason = err.strerror or (str(err).splitlines() or [type(err).__name__])[0] or type(err).__name__
    return f"{target}: {reason[0].lower() + reason[1:] if reason[1:2].islower() else reason}"


def is_write_error(err: BaseException) -> bool:
    """Whether ``err`` says that an output could not be written (full disk, quota, permissions, I/O error)."""
    return isinstance(err, OSError) and not isinstance(err, FileExistsError) and err.errno in _WRITE_ERRNOS


def output_error(err: OSError, path: str | Path) -> OutputError:
    """``err`` raised while writing ``path``, as an :class:`OutputError` with a one-line message."""
    if isinstance(err, OutputError):
        return err
    out = OutputError(describe_os_error(err, path))
    out.errno, out.filename = err.errno, str(path)
    return out


def error_for(code: int, message: str, path: str | Path) -> OutputError:
    """An :class:`OutputError` with ``message``, ``errno`` ``code`` and ``filename`` ``path``."""
    out = OutputError(message)
    out.errno, out.filename = code, str(path)
    return out
