"""One HDF5 output file, written atomically (:mod:`caloforge.atomic`) and discarded safely on failure.

HDF5 cannot recover from a failed write: once the disk is full, closing the file tries to flush its
caches again, fails, and a later close (at the latest when the interpreter exits) crashes the
process. :class:`H5Output` therefore flushes before it closes, and to discard a file it points the
library's file descriptor at ``/dev/null`` first, so that closing always succeeds; the temporary
file is then deleted and the target is left as it was.

Example:
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.h5"
    >>> with H5Output(target) as out:
    ...     _ = out.file.create_dataset("x", data=[1.0, 2.0])
    >>> sorted(p.name for p in target.parent.iterdir())
    ['x.h5']
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from caloforge.atomic import AtomicFile
from caloforge.oserrors import is_write_error, output_error

__all__ = ["H5Output"]


class H5Output:
    """An HDF5 file opened for writing on a secure temporary file beside ``path``.

    Write through :attr:`file` (wrapping HDF5 calls in :meth:`guard` turns their write errors into
    :class:`~caloforge.atomic.OutputError`), then :meth:`commit` or :meth:`abort`; as a context manager
    it commits on success and aborts on an exception.

    Arguments:
        path: The target file.
        overwrite: Replace an existing target.
        expected_bytes: Size of the output, if known; a disk with less free space is refused at once.
        **h5_options: Passed to ``h5py.File`` (e.g. ``libver="latest"``).

    Raises:
        FileExistsError: If ``path`` exists and ``overwrite`` is false.
        caloforge.atomic.OutputError: If ``path`` is a directory, the disk is too small, or the file
            cannot be created.
    """

    def __init__(
        self, path: str | Path, *, overwrite: bool = False, expected_bytes: int | None = None, **h5_options: Any
    ) -> None:
        import h5py

        self._out = AtomicFile(path, overwrite=overwrite, expected_bytes=expected_bytes)
        self.path, self.tmp_path = self._out.path, self._out.tmp_path
        try:
            self.file = h5py.File(self.tmp_path, "w", **h5_options)
        except BaseException as err:
            self._out.discard()
            if isinstance(err, OSError):
                raise output_error(err, self.path) from None
            raise

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turns an :class:`OSError` of the HDF5 calls inside into an :class:`~caloforge.atomic.OutputError`."""
        try:
            yield
        except OSError as err:
            if not is_write_error(err):
                raise
            raise output_error(err, self.path) from None

    def commit(self) -> Path:
        """Flushes, closes and renames the file onto the target.

        Raises:
            FileExistsError: The target appeared meanwhile and ``overwrite`` is false.
            caloforge.atomic.OutputError: Flushing or renaming failed (nothing is left behind).
        """
        try:
            self.file.flush()
        except OSError as err:
            self.abort()
            raise output_error(err, self.path) from None
        try:
            self.file.close()
        except OSError as err:  # pragma: no cover - the flush above wrote everything
            self._out.discard()
            raise output_error(err, self.path) from None
        return self._out.commit()

    def abort(self) -> None:
        """Discards the file; the target is left as it was. Never raises."""
        if self.file.id.valid:
            # closing must not write: HDF5 would retry a failed write, fail again and crash later
            with suppress(Exception):
                fd = self.file.id.get_vfd_handle()
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, int(fd))
                os.close(null)
            with suppress(Exception):  # the data are discarded anyway
                self.file.close()
        self._out.discard()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.commit()
            return
        self.abort()
        if is_write_error(exc):
            raise output_error(exc, self.path) from None  # type: ignore[arg-type]
