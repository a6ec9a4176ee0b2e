"""Faults at the command line: full disk, read-only or wrong output paths, signals. One line, exit 2, nothing left."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import h5py
import pytest

from caloforge import atomic
from caloforge.cli.main import main

SIM = ["simulate", "-n", "50", "--seed", "1", "--no-progress"]


def _files(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


def _one_error(capsys: pytest.CaptureFixture[str], command: str) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"caloforge {command}: error: "), err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    return err.removeprefix(f"caloforge {command}: error: ")


def fill_disk(monkeypatch: pytest.MonkeyPatch, *, after: int = 0) -> None:
    """From now on every HDF5 data write, and every buffered file write after the first ``after``, fails (ENOSPC)."""
    real = atomic._RecordingFile.write
    count = {"n": 0}

    def hdf5_full(self: object, key: object, value: object) -> None:
        raise OSError(errno.ENOSPC, "Can't synchronously write data (file write failed: errno = 28)")

    def file_full(self: atomic._RecordingFile, data: object) -> int:
        count["n"] += 1
        if count["n"] <= after:
            return real(self, data)
        err = OSError(errno.ENOSPC, "No space left on device")
        self.error = self.error or err
        raise err

    monkeypatch.setattr(h5py.Dataset, "__setitem__", hdf5_full)
    monkeypatch.setattr(atomic._RecordingFile, "write", file_full)


@pytest.fixture
def checkpoint(tmp_path_factory: pytest.TempPathFactory, shower_file: Callable[..., Path]) -> Path:
    run = tmp_path_factory.mktemp("run") / "run"
    assert main(["-q", "train", "--model", "wgan", "--data", str(shower_file(n=64)), "--dry-run", "--out", str(run),
                 "--no-progress", "--device", "cpu"]) == 0
    return run / "dry-run" / "checkpoints" / "last.pt"


def test_full_disk_simulate_and_generate(
    tmp_path: Path, checkpoint: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fill_disk(monkeypatch)
    out = tmp_path / "out"
    out.mkdir()
    assert main([*SIM, "-o", str(out / "sim.h5")]) == 2
    assert _one_error(capsys, "simulate") == f"no space left on device {atomic.mount_point(out)} writing {out / 'sim.h5'}"
    assert main(["generate", "--checkpoint", str(checkpoint), "--energies", "fixed:10", "--n", "20", "-o",
                 str(out / "gen.h5"), "--device", "cpu", "--no-progress"]) == 2
    assert _one_error(capsys, "generate").startswith("no space left on device")
    assert _files(out) == []


def test_full_disk_train(
    tmp_path: Path, shower_file: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data, run = shower_file(n=64), tmp_path / "run"
    fill_disk(monkeypatch, after=1)  # config.yaml is written, the checkpoint is not
    assert main(["-q", "train", "--model", "wgan", "--data", str(data), "--dry-run", "--out", str(run),
                 "--no-progress", "--device", "cpu"]) == 2
    run = run / "dry-run"  # a dry run writes there, never into the run folder itself
    last = run / "checkpoints" / "last.pt"
    assert _one_error(capsys, "train") == f"no space left on device {atomic.mount_point(run)} writing {last}"
    assert "config.yaml" in _files(run)
    assert [f for f in _files(run) if f.endswith(".tmp") or (run / f).stat().st_size == 0] == []
    capsys.readouterr()


def test_full_disk_evaluate_leaves_no_empty_figures(
    tmp_path: Path, shower_file: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ref, gen = shower_file("ref.h5", n=120, seed=1), shower_file("gen.h5", n=120, seed=2)
    writes = {"n": 0}
    real = atomic._RecordingFile.write

    def fill_after_a_few(self: atomic._RecordingFile, data: object) -> int:
        writes["n"] += 1
        if writes["n"] > 3:  # the disk fills up while the figures are written
            err = OSError(errno.ENOSPC, "No space left on device")
            self.error = self.error or err
            raise err
        return real(self, data)

    monkeypatch.setattr(atomic._RecordingFile, "write", fill_after_a_few)
    out = tmp_path / "eval"
    assert main(["evaluate", "--reference", str(ref), "--generated", str(gen), "--out", str(out), "--classifier",
                 "none", "--distances", "none", "--formats", "png"]) == 2
    assert _one_error(capsys, "evaluate").startswith("no space left on device")
    files = _files(out)
    assert files  # the figures written before the disk filled up are complete
    assert [f for f in files if f.endswith(".tmp") or (out / f).stat().st_size == 0] == []


def test_read_only_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def denied(**_: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", denied)
    assert main([*SIM, "-o", str(tmp_path / "x.h5")]) == 2
    assert _one_error(capsys, "simulate") == f"permission denied writing {tmp_path / 'x.h5'}"


def test_output_paths_that_cannot_be_files(tmp_path: Path, shower_file: Callable[..., Path],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "adir"
    target.mkdir()
    (target / "keep.txt").write_text("keep")
    assert main([*SIM, "-o", str(target), "--force"]) == 2
    assert _one_error(capsys, "simulate") == f"{target} is a directory; give a file name"
    assert _files(tmp_path) == ["adir/keep.txt"]
    afile = tmp_path / "report.txt"
    afile.write_text("keep")
    ref = shower_file("ref.h5")
    assert main(["evaluate", "--reference", str(ref), "--generated", str(ref), "--out", str(afile)]) == 2
    assert _one_error(capsys, "evaluate") == f"{afile} exists and is not a directory; give a folder for the evaluation outputs"
    assert main(["inspect", str(tmp_path / "missing.h5")]) == 2
    assert _one_error(capsys, "inspect") == f"{tmp_path / 'missing.h5'}: no such file"


def _wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            pytest.fail("timed out")
        time.sleep(0.05)


# a long simulation; the free-space check is off so that the test does not need the disk for all of it
_LONG_RUN = """
import sys
import caloforge.atomic
caloforge.atomic.check_free_space = lambda *args: None
from caloforge.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_removes_the_temporary_file_and_sigkill_leftovers_are_cleaned(tmp_path: Path) -> None:
    out = tmp_path / "big.h5"
    cmd = [sys.executable, "-c", _LONG_RUN, "-q", "simulate", "-n", "2000000", "-o", str(out), "--no-progress",
           "--seed", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def temporaries() -> list[Path]:
        return sorted(tmp_path.glob(".big.h5.*.tmp"))

    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    _wait_for(lambda: bool(temporaries()))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert err.strip() == "caloforge simulate: terminated by SIGTERM; partial outputs were removed"
    assert list(tmp_path.iterdir()) == []

    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL, env=env)
    _wait_for(lambda: bool(temporaries()))
    proc.kill()  # SIGKILL cannot be handled: the temporary file stays ...
    proc.wait(timeout=60)
    assert temporaries()
    assert main([*SIM, "-o", str(out)]) == 0  # ... until the next write of the same file removes it
    assert list(tmp_path.iterdir()) == [out]
