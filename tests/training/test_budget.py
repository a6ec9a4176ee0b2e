"""Thread choice from the free cores, the wall-clock budget (clean stop, checkpoint, resume), TensorBoard."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import torch

from caloforge import threads
from caloforge.data import ShowerData
from caloforge.geometry import Geometry
from caloforge.models import GenerativeModel, build_model
from caloforge.training import TrainConfig, Trainer, callbacks, load_checkpoint
from caloforge.training.tracking import TensorBoardLogger, tensorboard_logger

from ..conftest import make_showers


def _vae(geometry: Geometry) -> GenerativeModel:
    torch.manual_seed(0)
    return build_model("vae", geometry, {"latent_dim": 3, "hidden": [16]})


def _cfg(**kw: Any) -> TrainConfig:
    base: dict[str, Any] = {"batch_size": 16, "progress": False, "device": "cpu", "limit_val_batches": 2,
                            "checkpoint_every": 0}
    return TrainConfig(**{**base, **kw})


class _Clock:
    """A fake monotonic clock that advances one second per reading."""

    def __init__(self) -> None:
        self.now = -1.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def data(tiny_geometry: Geometry) -> ShowerData:
    return make_showers(tiny_geometry, 80)


@pytest.mark.parametrize(("cores", "load", "expected"), [(2, 0.2, 2), (2, 1.4, 1), (2, 7.0, 1), (16, 3.6, 12)])
def test_threads_follow_the_free_cores(cores: int, load: float, expected: int) -> None:
    choice = threads.choose_threads(None, cores=cores, load=load, environ={})
    assert (choice.threads, choice.source) == (expected, "free cores")


def test_load_is_other_work_runnable_now(tmp_path: Path) -> None:
    loadavg = tmp_path / "loadavg"
    loadavg.write_text("3.10 2.50 1.00 4/812 12345\n")  # 4 runnable, one of them the reader
    assert threads.other_runnable(samples=3, interval_s=0, path=str(loadavg)) == 3.0
    assert threads.other_runnable(path=str(tmp_path / "none")) is None
    loadavg.write_text("garbage\n")
    assert threads.other_runnable(samples=1, path=str(loadavg)) is None


def test_explicit_threads_and_omp_num_threads_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "other_runnable", lambda: None)  # no /proc: the one-minute load average
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (5.0, 5.0, 5.0))
    monkeypatch.setattr(threads, "available_cores", lambda: 8)
    assert threads.choose_threads(None, environ={}).threads == 3  # 8 cores - load 5
    assert threads.choose_threads(None, environ={"OMP_NUM_THREADS": "2"}).source == "OMP_NUM_THREADS"
    assert threads.choose_threads(None, environ={"OMP_NUM_THREADS": "junk"}).threads == 3
    assert threads.choose_threads(6, environ={"OMP_NUM_THREADS": "2"}).threads == 6
    with pytest.raises(ValueError, match="at least 1"):
        threads.choose_threads(0)
    with pytest.raises(ValueError, match="threads"):
        TrainConfig(threads=0)


def test_trainer_applies_and_logs_the_thread_choice(
    tiny_geometry: Geometry, data: ShowerData, caplog: pytest.LogCaptureFixture
) -> None:
    before = torch.get_num_threads()
    try:
        with caplog.at_level(logging.INFO, logger="caloforge.threads"):
            Trainer(_vae(tiny_geometry), _cfg(max_steps=1, threads=2)).fit(data)
        assert torch.get_num_threads() == 2
        messages = [r.getMessage() for r in caplog.records if r.name == "caloforge.threads"]
        assert len(messages) == 1
        assert messages[0].startswith("training: 2 torch threads (requested: ")
    finally:
        torch.set_num_threads(before)


def test_wall_clock_limit_stops_cleanly_and_resume_continues(
    tiny_geometry: Geometry, data: ShowerData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    train, val = data.subset(slice(0, 64)), data.subset(slice(64, 80))
    straight = _vae(tiny_geometry)
    Trainer(straight, _cfg(max_steps=10, ema_decay=0.9)).fit(train, val)

    monkeypatch.setattr(callbacks, "monotonic", _Clock())  # 1 s per step: 4 s of budget = 4 steps
    cut = _vae(tiny_geometry)
    with caplog.at_level(logging.WARNING, logger="caloforge.training.trainer"):
        result = Trainer(cut, _cfg(max_steps=10, ema_decay=0.9, max_wall_s=3.5), out_dir=tmp_path).fit(train, val)
    assert (result.steps, result.planned_steps, result.stop_reason) == (4, 10, "wall-clock limit")
    assert result.cut_by_budget
    assert "stopped at the wall-clock limit (4 s) after 4 of 10 steps" in caplog.text
    assert load_checkpoint(tmp_path / "checkpoints" / "last.pt")["counters"]["step"] == 4

    monkeypatch.setattr(callbacks, "monotonic", _Clock())  # a fresh budget for the resumed call
    resumed = _vae(tiny_geometry)
    again = Trainer(resumed, _cfg(max_steps=10, ema_decay=0.9, max_wall_s=100)).fit(
        train, val, resume=tmp_path / "checkpoints" / "last.pt"
    )
    assert (again.steps, again.stop_reason, again.cut_by_budget) == (10, None, False)
    for (key, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), key


def test_a_budget_spent_on_the_last_step_cuts_nothing(
    tiny_geometry: Geometry, data: ShowerData, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(callbacks, "monotonic", _Clock())
    result = Trainer(_vae(tiny_geometry), _cfg(max_steps=3, max_wall_s=2.5)).fit(data)
    assert (result.steps, result.stop_reason) == (3, None)


class _Writer:
    def __init__(self) -> None:
        self.scalars: list[tuple[str, float, int]] = []
        self.closed = False

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        self.scalars.append((tag, value, step))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def test_tensorboard_logger_writes_train_and_val_scalars(
    tiny_geometry: Geometry, data: ShowerData, tmp_path: Path
) -> None:
    writer = _Writer()
    board = TensorBoardLogger(tmp_path, every_n_steps=2, writer=writer)
    trainer = Trainer(_vae(tiny_geometry), _cfg(max_epochs=1), callbacks=[board])
    trainer.fit(data.subset(slice(0, 64)), data.subset(slice(64, 80)))
    tags = {tag for tag, _, _ in writer.scalars}
    assert {"train/loss", "train/lr", "val/loss"} <= tags
    assert sorted({step for tag, _, step in writer.scalars if tag == "train/loss"}) == [2, 4]
    assert writer.closed


def test_tensorboard_option_without_tensorboard_warns_and_goes_on(
    tiny_geometry: Geometry, data: ShowerData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "torch.utils.tensorboard", None)  # not importable
    assert tensorboard_logger(tmp_path) is None
    assert "TensorBoard is not installed" in caplog.text
    result = Trainer(_vae(tiny_geometry), _cfg(max_steps=2, log_every=1, tensorboard=True), out_dir=tmp_path).fit(data)
    assert result.steps == 2
    assert (tmp_path / "metrics.jsonl").exists()
    assert not (tmp_path / "tensorboard").exists()


def test_tensorboard_event_files_when_installed(tiny_geometry: Geometry, data: ShowerData, tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    Trainer(_vae(tiny_geometry), _cfg(max_steps=4, log_every=2, tensorboard=True), out_dir=tmp_path).fit(data)
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
