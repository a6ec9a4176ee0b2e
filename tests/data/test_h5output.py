"""HDF5 outputs under faults: a full disk never crashes the process or leaves a temporary file."""

from __future__ import annotations

import errno
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from caloforge.data import ShowerData, ShowerWriter, read_showers, write_showers
from caloforge.data.h5output import H5Output
from caloforge.geometry import Geometry
from caloforge.oserrors import OutputError
from tests.conftest import make_showers


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_full_disk_mid_write(tmp_path: Path, tiny_geometry: Geometry, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.h5"
    write_showers(target, make_showers(tiny_geometry, 8))
    before = target.read_bytes()
    calls = {"n": 0}
    real = h5py.Dataset.__setitem__

    def fill_up(self: h5py.Dataset, key: object, value: object) -> None:
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(errno.ENOSPC, "Can't write data (file write failed: errno = 28)")
        real(self, key, value)

    monkeypatch.setattr(h5py.Dataset, "__setitem__", fill_up)
    data = make_showers(tiny_geometry, 16)

    def write_all() -> None:
        with ShowerWriter(target, tiny_geometry, overwrite=True) as writer:
            for i in range(0, 16, 4):
                writer.write(data.subset(slice(i, i + 4)))

    with pytest.raises(OutputError, match=r"^no space left on device .* writing .*out\.h5$"):
        write_all()
    assert target.read_bytes() == before  # the earlier file is intact
    assert _names(tmp_path) == ["out.h5"]


def test_failed_flush_discards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = H5Output(tmp_path / "x.h5")
    out.file.create_dataset("x", data=np.arange(10.0))

    def full() -> None:
        raise OSError(errno.ENOSPC, "Driver write request failed")

    monkeypatch.setattr(out.file, "flush", full)
    with pytest.raises(OutputError, match="no space left"):
        out.commit()
    assert not out.file.id.valid
    assert _names(tmp_path) == []


def test_directory_target_and_existing_file(tmp_path: Path, tiny_geometry: Geometry) -> None:
    (tmp_path / "d.h5").mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        write_showers(tmp_path / "d.h5", make_showers(tiny_geometry, 4), overwrite=True)
    write_showers(tmp_path / "a.h5", make_showers(tiny_geometry, 4))
    with pytest.raises(FileExistsError, match="already exists"):
        write_showers(tmp_path / "a.h5", make_showers(tiny_geometry, 4))
    assert _names(tmp_path) == ["a.h5", "d.h5"]
    assert list((tmp_path / "d.h5").iterdir()) == []


def test_disk_too_small_is_refused_up_front(tmp_path: Path, tiny_geometry: Geometry,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import caloforge.atomic

    usage = type("Usage", (), {"free": 10_000, "total": 1 << 30, "used": 0})()
    monkeypatch.setattr(caloforge.atomic.shutil, "disk_usage", lambda _: usage)
    with pytest.raises(OutputError, match=r"no space left on device .* needs about"):
        ShowerWriter(tmp_path / "big.h5", tiny_geometry, expected_events=1_000_000)
    assert _names(tmp_path) == []


_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write(2) then fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
from caloforge.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def test_real_write_failure_in_hdf5_does_not_crash(tmp_path: Path) -> None:
    """The HDF5 library used to segfault after two tracebacks when its writes failed."""
    out = tmp_path / "sim.h5"
    args = ["-q", "simulate", "-n", "400", "-o", str(out), "--seed", "1", "--no-progress", "--compression", "none"]
    run = subprocess.run([sys.executable, "-c", _LIMITED, "3000000", *args], capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 2, run.stderr
    expected = f"caloforge simulate: error: file too large (file size limit reached) writing {out}"
    assert run.stderr.strip().splitlines() == [expected]
    assert _names(tmp_path) == []


def test_round_trip_still_exact(shower_file: Callable[..., Path]) -> None:
    path = shower_file(n=10)
    data = read_showers(path)
    assert isinstance(data, ShowerData)
    assert data.showers.dtype == np.float32
