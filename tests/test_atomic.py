"""The atomic-output helper: secure temporaries, no-clobber commits, cleanup on every failure."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from caloforge import atomic
from caloforge.atomic import (
    AtomicFile,
    atomic_open,
    atomic_output,
    atomic_write_text,
    check_free_space,
    prepare_target,
    remove_stale_temporaries,
)
from caloforge.oserrors import OutputError, describe_os_error


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_write_replace_and_permissions(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    atomic_write_text(target, "one")
    old = os.umask(0o027)
    try:
        atomic_write_text(target, "two")
    finally:
        os.umask(old)
    assert target.read_text() == "two"
    assert target.stat().st_mode & 0o777 == 0o640  # 0666 & ~umask, not mkstemp's 0600
    assert _names(tmp_path) == ["a.txt"]


def test_refuses_existing_and_directories(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("keep")
    with pytest.raises(FileExistsError, match="already exists"):
        atomic_write_text(target, "new", overwrite=False)
    (tmp_path / "d").mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        atomic_write_text(tmp_path / "d", "x")
    with pytest.raises(OutputError, match="not a directory"):
        atomic_write_text(target / "below.txt", "x")
    assert target.read_text() == "keep"
    assert _names(tmp_path) == ["a.txt", "d"]


def test_failure_inside_the_block_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("keep")
    def fail_halfway() -> None:
        with atomic_output(target, overwrite=True) as tmp:
            tmp.write_text("half")
            msg = "boom"
            raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="boom"):
        fail_halfway()
    assert target.read_text() == "keep"
    assert _names(tmp_path) == ["a.txt"]


def test_target_created_meanwhile_is_never_clobbered(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    def race() -> None:
        with atomic_open(target, "w") as f:
            f.write("mine")
            target.write_text("theirs")  # another process won the race

    with pytest.raises(FileExistsError):
        race()
    assert target.read_text() == "theirs"
    assert _names(tmp_path) == ["a.txt"]


def test_planted_symlinks_are_never_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    # the names earlier versions used for their temporary files
    for name in (f".x.h5.{os.getpid()}.tmp", "config.yaml.tmp", ".x.h5.tmp"):
        (out / name).symlink_to(victim)
    (out / "config.yaml").symlink_to(victim)
    atomic_write_text(out / "x.h5", "data")
    atomic_write_text(out / "config.yaml", "a: 1\n", overwrite=True)  # replaces the link, not its target
    assert victim.read_text() == "precious"
    assert (out / "config.yaml").read_text() == "a: 1\n"
    assert not (out / "config.yaml").is_symlink()
    dangling = out / "dangling.txt"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileExistsError):
        atomic_write_text(dangling, "x", overwrite=False)
    assert not (tmp_path / "nowhere").exists()


def test_temporaries_are_unpredictable_and_do_not_collide(tmp_path: Path) -> None:
    a, b = AtomicFile(tmp_path / "x.h5", overwrite=True), AtomicFile(tmp_path / "x.h5", overwrite=True)
    assert a.tmp_path != b.tmp_path
    assert a.tmp_path.name.startswith(f".x.h5.{atomic._HOST}-{os.getpid()}.")
    assert a.tmp_path.name.endswith(".tmp")
    a.open("wb").write(b"a")
    b.open("wb").write(b"b")
    a.commit()
    b.commit()
    assert (tmp_path / "x.h5").read_bytes() == b"b"
    assert _names(tmp_path) == ["x.h5"]


def test_fsync_before_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(atomic.os, "replace", lambda a, b: (calls.append("rename"), real_replace(a, b))[1])
    atomic_write_text(tmp_path / "a.txt", "x", overwrite=True)
    assert calls[:2] == ["fsync", "rename"]


def test_full_disk_reports_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")

    def full(self: atomic._RecordingFile, data: object) -> int:  # what a full disk does to write(2)
        err = OSError(errno.ENOSPC, "No space left on device")
        self.error = self.error or err
        raise err

    monkeypatch.setattr(atomic._RecordingFile, "write", full)
    with pytest.raises(OutputError, match=r"^no space left on device .* writing .*a\.bin$") as info:
        atomic_write_text(target, "new" * 10_000)
    assert info.value.errno == errno.ENOSPC
    assert target.read_bytes() == b"old"
    assert _names(tmp_path) == ["a.bin"]


def test_free_space_is_checked_before_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    usage = type("Usage", (), {"free": 1000, "total": 10_000, "used": 9000})()
    monkeypatch.setattr(atomic.shutil, "disk_usage", lambda _: usage)
    with pytest.raises(OutputError, match=r"no space left on device .*needs about 2\.1 MB, 1 kB free"):
        check_free_space(tmp_path / "big.h5", 2_100_000)
    with pytest.raises(OutputError, match="no space left"):
        AtomicFile(tmp_path / "big.h5", expected_bytes=2_100_000)
    assert _names(tmp_path) == []


def test_read_only_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(**_: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", denied)
    with pytest.raises(OutputError, match=r"^permission denied writing .*a\.txt$"):
        atomic_write_text(tmp_path / "a.txt", "x")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory_for_real(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="permission denied writing"):
            atomic_write_text(ro / "a.txt", "x")
    finally:
        ro.chmod(0o755)


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    pid = int(dead.stdout)
    host = atomic._HOST
    stale = tmp_path / f".x.h5.{host}-{pid}.abc123.tmp"
    legacy = tmp_path / f".x.h5.{pid}.tmp"
    alive = tmp_path / f".x.h5.{host}-{os.getpid()}.zzz.tmp"
    other_host = tmp_path / f".x.h5.otherhost-{pid}.abc.tmp"
    other_file = tmp_path / f".y.h5.{host}-{pid}.abc.tmp"
    for p in (stale, legacy, alive, other_host, other_file):
        p.write_bytes(b"partial")
    assert sorted(remove_stale_temporaries(tmp_path / "x.h5")) == sorted([stale, legacy])
    prepare_target(tmp_path / "x.h5")
    assert _names(tmp_path) == sorted(p.name for p in (alive, other_host, other_file))


_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
from caloforge.atomic import atomic_write_text
from caloforge.oserrors import OutputError
try:
    atomic_write_text(sys.argv[1], "x" * 1_000_000)
except OutputError as err:
    print(err)
"""


def test_file_size_limit_for_real(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    out = subprocess.run([sys.executable, "-c", _LIMITED, str(target)], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("file too large")
    assert target.read_text() == "old"
    assert _names(tmp_path) == ["a.txt"]


def test_describe_os_error_messages() -> None:
    assert describe_os_error(OSError(errno.EROFS, "Read-only file system"), "/x/y.h5") == (
        "read-only file system writing /x/y.h5"
    )
    assert describe_os_error(IsADirectoryError(errno.EISDIR, "Is a directory", "out")) == (
        "out is a directory; give a file name"
    )
    assert describe_os_error(OSError("a plain message\nsecond line")) == "a plain message"
