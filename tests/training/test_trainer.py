"""Trainer: step counting, logs and checkpoints, interrupt + resume, early stopping, EMA, validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from caloforge.data import ShowerData
from caloforge.geometry import Geometry
from caloforge.models import CheckpointError, GenerativeModel, build_model, load_model, save_model
from caloforge.models.serialization import save_state
from caloforge.training import EMA, Callback, EarlyStopping, TrainConfig, Trainer, load_checkpoint
from caloforge.training.data import ShowerTensors

from ..conftest import make_showers


def _vae(geometry: Geometry, **config: object) -> GenerativeModel:
    torch.manual_seed(0)
    return build_model("vae", geometry, {"latent_dim": 3, "hidden": [16], **config})


def _cfg(**kw: object) -> TrainConfig:
    base: dict[str, object] = {"batch_size": 16, "progress": False, "device": "cpu", "limit_val_batches": 2}
    return TrainConfig(**{**base, **kw})  # type: ignore[arg-type]


@pytest.fixture
def data(tiny_geometry: Geometry) -> ShowerData:
    return make_showers(tiny_geometry, 80)


def test_fit_counts_steps_and_writes_logs(tiny_geometry: Geometry, data: ShowerData, tmp_path: Path) -> None:
    model = _vae(tiny_geometry)
    result = Trainer(model, _cfg(max_epochs=3, log_every=2, checkpoint_every=4), out_dir=tmp_path).fit(
        data.subset(slice(0, 64)), data.subset(slice(64, 80))
    )
    assert result.steps == 12  # 64 showers / 16 per batch, 3 epochs
    assert result.epochs == 3
    assert result.showers_per_second > 0
    assert "val/loss" in result.val_metrics
    assert result.checkpoint == tmp_path / "checkpoints" / "last.pt"
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "last.pt",
        "step-0000008.pt",
        "step-0000012.pt",
    ]
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in records if r["split"] == "train"]
    val = [r for r in records if r["split"] == "val"]
    assert [r["step"] for r in train] == [2, 4, 6, 8, 10, 12]
    assert [r["epoch"] for r in val] == [0, 1, 2]
    assert all({"loss", "lr", "kl", "grad_norm"} <= set(r) for r in train)


def test_limit_batches_and_max_steps(tiny_geometry: Geometry, data: ShowerData) -> None:
    result = Trainer(_vae(tiny_geometry), _cfg(max_epochs=5, limit_batches=2)).fit(data)
    assert (result.steps, result.epochs) == (10, 5)
    result = Trainer(_vae(tiny_geometry), _cfg(max_epochs=5, max_steps=3)).fit(data)
    assert (result.steps, result.epochs) == (3, 0)


class _InterruptAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, trainer: Trainer, group: str, metrics: dict[str, float]) -> None:
        if trainer.step == self.step:
            raise KeyboardInterrupt


def test_interrupt_saves_checkpoint_and_resume_matches(
    tiny_geometry: Geometry, data: ShowerData, tmp_path: Path
) -> None:
    config = _cfg(max_steps=9, checkpoint_every=0, ema_decay=0.9)
    straight = _vae(tiny_geometry)
    Trainer(straight, config).fit(data)
    interrupted = _vae(tiny_geometry)
    with pytest.raises(KeyboardInterrupt):
        Trainer(interrupted, config, out_dir=tmp_path, callbacks=[_InterruptAt(4)]).fit(data)
    state = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert state["counters"]["step"] == 4
    resumed = _vae(tiny_geometry)
    result = Trainer(resumed, config).fit(data, resume=tmp_path / "checkpoints" / "last.pt")
    assert result.steps == 9
    for (key, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), key


def test_resume_accepts_a_checkpoint_written_before_a_config_field_existed(
    tiny_geometry: Geometry, data: ShowerData, tmp_path: Path
) -> None:
    Trainer(_vae(tiny_geometry), _cfg(max_steps=2), out_dir=tmp_path).fit(data)
    state = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    del state["model"]["config"]["output_noise"]  # as written before the option existed
    save_state(state, tmp_path / "old.pt")
    assert Trainer(_vae(tiny_geometry), _cfg(max_steps=3)).fit(data, resume=tmp_path / "old.pt").steps == 3
    with pytest.raises(CheckpointError, match=r"\(output_noise differ\)"):
        Trainer(_vae(tiny_geometry, output_noise=0.1), _cfg(max_steps=3)).fit(data, resume=tmp_path / "old.pt")


def test_resume_refuses_other_model_and_model_only_files(
    tiny_geometry: Geometry, data: ShowerData, tmp_path: Path
) -> None:
    Trainer(_vae(tiny_geometry), _cfg(max_steps=2), out_dir=tmp_path).fit(data)
    other = _vae(tiny_geometry, latent_dim=5)
    with pytest.raises(CheckpointError, match=r"another config \(latent_dim differ\)"):
        Trainer(other, _cfg(max_steps=4)).fit(data, resume=tmp_path / "checkpoints" / "last.pt")
    save_model(_vae(tiny_geometry), tmp_path / "model.pt")
    with pytest.raises(CheckpointError, match="not a caloforge training checkpoint"):
        Trainer(_vae(tiny_geometry), _cfg(max_steps=4)).fit(data, resume=tmp_path / "model.pt")


def test_early_stopping(tiny_geometry: Geometry, data: ShowerData) -> None:
    stopper = EarlyStopping(patience=1, min_delta=1e9)  # only the first epoch counts as an improvement
    result = Trainer(_vae(tiny_geometry), _cfg(max_epochs=10), callbacks=[stopper]).fit(
        data.subset(slice(0, 64)), data.subset(slice(64, 80))
    )
    assert result.epochs == 2
    assert stopper.bad_epochs == 1


def test_ema_average_and_checkpoint_uses_it(tiny_geometry: Geometry, data: ShowerData, tmp_path: Path) -> None:
    ema = EMA(decay=0.5)
    net = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        net.weight.fill_(0.0)
    ema.attach(net)
    with torch.no_grad():
        net.weight.fill_(1.0)
    ema.update(net)  # d = min(0.5, 1/10) = 0.1 → 0.1·0 + 0.9·1
    assert float(ema.shadow["weight"]) == pytest.approx(0.9)
    model = _vae(tiny_geometry)
    Trainer(model, _cfg(max_steps=5, ema_decay=0.99), out_dir=tmp_path).fit(data)
    with_ema = load_model(tmp_path / "checkpoints" / "last.pt")
    raw = load_model(tmp_path / "checkpoints" / "last.pt", use_ema=False)
    assert torch.equal(raw.state_dict()["decoder.0.weight"], model.state_dict()["decoder.0.weight"])
    assert not torch.equal(with_ema.state_dict()["decoder.0.weight"], model.state_dict()["decoder.0.weight"])


class _GradNorm(Callback):
    def __init__(self) -> None:
        self.norms: list[float] = []

    def on_step_end(self, trainer: Trainer, group: str, metrics: dict[str, float]) -> None:
        grads = [p.grad for p in trainer.model.parameters() if p.grad is not None]
        self.norms.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))
        self.reported = metrics["grad_norm"]


def test_gradient_clipping(tiny_geometry: Geometry, data: ShowerData) -> None:
    probe = _GradNorm()
    Trainer(_vae(tiny_geometry), _cfg(max_steps=3, grad_clip=1e-3), callbacks=[probe]).fit(data)
    assert max(probe.norms) <= 1e-3 * 1.001
    assert probe.reported > 1e-3  # the unclipped norm is logged


def test_models_recommended_learning_rate_is_used(tiny_geometry: Geometry, data: ShowerData) -> None:
    model = _vae(tiny_geometry, lr=0.0123)
    trainer = Trainer(model, _cfg(max_steps=1, scheduler="constant"))
    trainer.fit(data)
    assert trainer.lr("main") == pytest.approx(0.0123)
    trainer = Trainer(_vae(tiny_geometry, lr=0.0123), _cfg(max_steps=1, scheduler="constant", lr=0.5))
    trainer.fit(data)
    assert trainer.lr("main") == pytest.approx(0.5)


def test_cpu_seconds_are_logged_and_carried_over_a_resume(
    tiny_geometry: Geometry, data: ShowerData, tmp_path: Path
) -> None:
    config = _cfg(max_steps=6, checkpoint_every=0, log_every=1)
    with pytest.raises(KeyboardInterrupt):
        Trainer(_vae(tiny_geometry), config, out_dir=tmp_path, callbacks=[_InterruptAt(3)]).fit(data)
    before = load_checkpoint(tmp_path / "checkpoints" / "last.pt")["callbacks"]["MetricLogger"]["cpu_s"]
    assert before > 0
    Trainer(_vae(tiny_geometry), config, out_dir=tmp_path).fit(data, resume=tmp_path / "checkpoints" / "last.pt")
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    cpu = [r["cpu_s"] for r in records if r["split"] == "train"]
    assert cpu == sorted(cpu)
    assert cpu[-1] >= round(before, 1)
    after = load_checkpoint(tmp_path / "checkpoints" / "last.pt")["callbacks"]["MetricLogger"]["cpu_s"]
    assert after > before


def test_init_from_copies_weights_and_preprocessing_with_fresh_optimizers(
    tiny_geometry: Geometry, data: ShowerData, tmp_path: Path
) -> None:
    pretrained = _vae(tiny_geometry)
    Trainer(pretrained, _cfg(max_steps=4), out_dir=tmp_path / "pre").fit(data)
    start = tmp_path / "pre" / "checkpoints" / "last.pt"
    other_data = make_showers(tiny_geometry, 80, seed=5)
    tuned = _vae(tiny_geometry)
    trainer = Trainer(tuned, _cfg(max_steps=1, init_from=str(start)))
    before = {k: v.clone() for k, v in load_model(start).state_dict().items()}
    trainer._setup(ShowerTensors.from_data(other_data), None)
    for key, value in before.items():  # preprocessing fitted on the pre-training data, not refitted
        assert torch.equal(tuned.state_dict()[key], value), key
    assert trainer.step == 0
    with pytest.raises(CheckpointError, match="another config"):
        Trainer(_vae(tiny_geometry, latent_dim=5), _cfg(max_steps=1, init_from=str(start))).fit(other_data)


def test_fit_after_training_runs_once_with_the_ema_weights(
    tiny_geometry: Geometry, data: ShowerData, tmp_path: Path
) -> None:
    model = _vae(tiny_geometry)
    seen: list[tuple[int, dict[str, torch.Tensor], bool]] = []

    def record(showers: torch.Tensor, conditions: torch.Tensor) -> None:
        weights = {k: p.detach().clone() for k, p in model.named_parameters()}
        seen.append((len(showers), weights, torch.is_grad_enabled()))
        assert conditions.shape == (len(showers), 1)

    model.fit_after_training = record  # type: ignore[method-assign]
    trainer = Trainer(model, _cfg(max_steps=6, ema_decay=0.9), out_dir=tmp_path)
    trainer.fit(data)
    assert len(seen) == 1
    n, weights, grad = seen[0]
    assert (n, grad) == (len(data), False)
    ema = load_checkpoint(tmp_path / "checkpoints" / "last.pt")["ema"]["shadow"]
    for key, value in ema.items():
        assert torch.equal(weights[key], value), key  # the averaged weights were swapped in ...
    own = dict(model.named_parameters())
    assert any(not torch.equal(own[k].detach(), v) for k, v in ema.items())  # ... and swapped back out
