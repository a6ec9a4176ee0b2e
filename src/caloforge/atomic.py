"""Atomic, secure output files: every file caloforge writes goes through this module.

A writer never touches its target until the output is complete:

* the data go to a temporary file created beside the target with ``tempfile.mkstemp`` (``O_EXCL``:
  a file or symlink planted at that name is never opened) under an unpredictable name
  ``.NAME.HOST-PID.RANDOM.tmp``, so two runs writing into one directory never collide;
* on success the data are ``fsync``-ed and the temporary file is renamed onto the target in one step
  (a hard link when the target must not be replaced, so that a file created meanwhile is never
  clobbered); a symlink at the target is replaced, never followed; the directory is then ``fsync``-ed;
* on any failure (an exception, Ctrl-C, or SIGTERM from a batch system through the command line)
  the temporary file is deleted and the target is left as it was;
* temporary files of a killed process (SIGKILL, a power cut) are deleted by the next write of the same
  target once that process is gone;
* a target that is a directory, an existing target without ``overwrite`` and, when the size is known
  in advance, a disk too small for it are refused before anything is written.

Operating-system errors come back as :class:`~caloforge.oserrors.OutputError`, whose message is one line that names the
target and the reason, e.g. ``no space left on device /data writing /data/showers.h5``.

Example:
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> atomic_write_text(target, "hello\\n")
    >>> with atomic_open(target, "w", overwrite=True) as f:
    ...     _ = f.write("replaced\\n")
    >>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
    ('replaced\\n', ['notes.txt'])
"""

from __future__ import annotations

import errno
import glob
import io
import logging
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, Self

from caloforge.oserrors import OutputError, error_for, format_size, is_write_error, mount_point, output_error

__all__ = [
    "AtomicFile",
    "OutputError",
    "atomic_open",
    "atomic_output",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_free_space",
    "prepare_target",
    "remove_stale_temporaries",
]

logger = logging.getLogger(__name__)

_HOST = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname())[:32] or "host"
_NAME_CHARS = 96  # the target name kept in a temporary file's name (file names are limited to 255 bytes)
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_STALE = re.compile(r"^(?:(?P<host>[A-Za-z0-9_]+)-)?(?P<pid>\d+)(?:\.[A-Za-z0-9_]+)?\.tmp$")


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Deletes temporary files of ``path`` left by processes of this machine that no longer run.

    Returns:
        The files deleted.
    """
    path = Path(path)
    prefix = f".{path.name[:_NAME_CHARS]}."
    removed = []
    for name in glob.glob(glob.escape(str(path.parent / prefix)) + "*.tmp"):
        match = _STALE.match(os.path.basename(name)[len(prefix) :])
        if match is None or (match["host"] or _HOST) != _HOST or _pid_alive(int(match["pid"])):
            continue
        try:
            os.unlink(name)
        except OSError:
            continue
        logger.info("removed %s, left behind by an interrupted run (process %s)", name, match["pid"])
        removed.append(Path(name))
    return removed


def check_free_space(path: str | Path, needed_bytes: int | None) -> None:
    """Refuses to start writing ``path`` when its file system has less than ``needed_bytes`` free.

    Raises:
        OutputError: ``no space left on device MOUNT writing PATH: needs about X, Y free``.
    """
    if not needed_bytes:
        return
    path = Path(path)
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return
    if needed_bytes > free:
        msg = (
            f"no space left on device {mount_point(path)} writing {path}: "
            f"it needs about {format_size(needed_bytes)}, {format_size(free)} free"
        )
        raise error_for(errno.ENOSPC, msg, path)


def prepare_target(path: str | Path, *, overwrite: bool = False, expected_bytes: int | None = None) -> Path:
    """Checks that ``path`` can be written, creates its directory and removes stale temporaries.

    Raises:
        FileExistsError: If ``path`` exists (or is a dangling symlink) and ``overwrite`` is false.
        OutputError: If ``path`` is a directory, its directory cannot be created, or the disk is too small.
    """
    path = Path(path)
    if path.is_dir():
        raise error_for(errno.EISDIR, f"{path} is a directory; give a file name", path)
    if not overwrite and (path.exists() or path.is_symlink()):
        msg = f"{path} already exists; pass overwrite=True (--force on the command line) to replace it"
        raise FileExistsError(msg)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise error_for(errno.ENOTDIR, f"cannot write {path}: {path.parent} is not a directory", path) from None
    except OSError as err:
        raise output_error(err, path) from None
    remove_stale_temporaries(path)
    check_free_space(path, expected_bytes)
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _RecordingFile(io.FileIO):
    """A raw file that remembers the first write error (libraries such as torch report them without errno)."""

    error: OSError | None = None

    def write(self, data: Any) -> int:
        try:
            return super().write(data)
        except OSError as err:
            self.error = self.error or err
            raise


class AtomicFile:
    """One output file written atomically (see the module docstring).

    Write either through :attr:`tmp_path` (libraries that need a file name, such as h5py) or through
    :meth:`open` (a buffered file on the already open descriptor); then :meth:`commit` or
    :meth:`discard`. As a context manager it commits on success and discards on an exception,
    turning write errors into :class:`OutputError`.

    Arguments:
        path: The target file.
        overwrite: Replace an existing target.
        expected_bytes: Size of the output if known; a disk with less free space is refused at once.

    Raises:
        FileExistsError: See :func:`prepare_target`.
        OutputError: See :func:`prepare_target`, or the temporary file cannot be created.
    """

    def __init__(self, path: str | Path, *, overwrite: bool = False, expected_bytes: int | None = None) -> None:
        self.path = prepare_target(path, overwrite=overwrite, expected_bytes=expected_bytes)
        self.overwrite = overwrite
        prefix = f".{self.path.name[:_NAME_CHARS]}.{_HOST}-{os.getpid()}."
        try:
            fd, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=self.path.parent)
        except OSError as err:
            raise output_error(err, self.path) from None
        self.tmp_path = Path(name)
        self._fd: int | None = fd
        self._raw: _RecordingFile | None = None
        self._stream: IO[Any] | None = None
        with suppress(OSError):  # file systems without permissions
            os.fchmod(fd, 0o666 & ~_umask())

    def open(self, mode: Literal["wb", "w"] = "wb", encoding: str = "utf-8") -> IO[Any]:
        """The temporary file as a buffered binary (``"wb"``) or text (``"w"``) stream; call once."""
        if self._fd is None or self._raw is not None:
            msg = f"{self.path}: the temporary file is already open or finished"
            raise RuntimeError(msg)
        self._raw = _RecordingFile(self._fd, "wb", closefd=False)
        buffered = io.BufferedWriter(self._raw, 1 << 20)
        self._stream = buffered if mode == "wb" else io.TextIOWrapper(buffered, encoding=encoding, newline="")
        return self._stream

    @property
    def write_error(self) -> OSError | None:
        """The first write error seen through :meth:`open`, if any."""
        return None if self._raw is None else self._raw.error

    def _close_fd(self) -> None:
        stream, fd = self._stream, self._fd
        self._stream, self._fd = None, None
        try:
            if stream is not None:
                stream.close()
        finally:
            if fd is not None:
                os.close(fd)

    def commit(self) -> Path:
        """Flushes and ``fsync``-s the data and renames the temporary file onto the target.

        Raises:
            FileExistsError: The target appeared meanwhile and ``overwrite`` is false.
            OutputError: Writing, syncing or renaming failed (the temporary file is deleted).
        """
        try:
            if self._stream is not None:
                self._stream.flush()
            if self._fd is not None:
                os.fsync(self._fd)
            self._close_fd()
            self._rename()
        except FileExistsError:
            self.discard()
            raise
        except OSError as err:
            error = self.write_error or err
            self.discard()
            raise output_error(error, self.path) from None
        except BaseException:
            self.discard()
            raise
        _fsync_dir(self.path.parent)
        return self.path

    def _rename(self) -> None:
        if self.overwrite:
            os.replace(self.tmp_path, self.path)
            return
        try:
            os.link(self.tmp_path, self.path)  # fails if the target exists: never clobbers
        except FileExistsError:
            msg = f"{self.path} already exists; pass overwrite=True (--force on the command line) to replace it"
            raise FileExistsError(msg) from None
        except OSError:  # no hard links on this file system
            if self.path.exists() or self.path.is_symlink():
                msg = f"{self.path} already exists; pass overwrite=True (--force on the command line) to replace it"
                raise FileExistsError(msg) from None
            os.replace(self.tmp_path, self.path)
            return
        os.unlink(self.tmp_path)

    def discard(self) -> None:
        """Deletes the temporary file; the target is left as it was. Never raises."""
        with suppress(OSError):
            self._close_fd()
        with suppress(OSError):
            os.unlink(self.tmp_path)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.commit()
            return
        # libraries that write in C++ (torch) report a full disk as a RuntimeError without errno
        full = isinstance(exc, RuntimeError) and self.write_error is None and _nearly_full(self.path)
        self.discard()
        error = self.write_error or exc
        if full:
            raise output_error(OSError(errno.ENOSPC, "No space left on device"), self.path) from None
        if is_write_error(error) and not isinstance(exc, FileExistsError):
            raise output_error(error, self.path) from None  # type: ignore[arg-type]


def _nearly_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < (1 << 20)
    except OSError:
        return False


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_output(path: str | Path, *, overwrite: bool = False, expected_bytes: int | None = None) -> Iterator[Path]:
    """Yields a temporary file name to write ``path`` through; commits on success (see :class:`AtomicFile`)."""
    with AtomicFile(path, overwrite=overwrite, expected_bytes=expected_bytes) as out:
        yield out.tmp_path


@contextmanager
def atomic_open(
    path: str | Path, mode: Literal["wb", "w"] = "wb", *, overwrite: bool = False, encoding: str = "utf-8"
) -> Iterator[IO[Any]]:
    """Yields a stream that writes ``path`` atomically (see :class:`AtomicFile`)."""
    with AtomicFile(path, overwrite=overwrite) as out:
        yield out.open(mode, encoding)


def atomic_write_bytes(path: str | Path, data: bytes, *, overwrite: bool = True) -> None:
    """Writes ``data`` to ``path`` atomically (replacing it by default)."""
    with atomic_open(path, "wb", overwrite=overwrite) as f:
        f.write(data)


def atomic_write_text(path: str | Path, text: str, *, overwrite: bool = True, encoding: str = "utf-8") -> None:
    """Writes ``text`` to ``path`` atomically (replacing it by default)."""
    with atomic_open(path, "w", overwrite=overwrite, encoding=encoding) as f:
        f.write(text)
