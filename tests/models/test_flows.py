"""CaloFlow family: invertibility, densities, distillation, schedule, inductive structure, round trips."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from caloforge.geometry import Geometry
from caloforge.models import MODELS, ShowerBatch, build_model, load_model, save_model
from caloforge.models.flows import (
    CaloFlow,
    CaloFlowConfig,
    ConditionalIAF,
    ConditionalMAF,
    FlowConfig,
    FlowPreprocessing,
    ICaloFlow,
    distillation_loss,
    student_discrepancy,
)
from caloforge.models.flows.made import MADE
from tests.conftest import make_showers

pytest.importorskip("zuko")

TINY = FlowConfig(transforms=2, hidden=(32,), bins=4)


def _tensors(geometry: Geometry, n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    data = make_showers(geometry, n)
    return torch.from_numpy(data.showers), torch.from_numpy(data.conditions())


@pytest.fixture(params=["caloflow", "icaloflow"])
def fitted(request: pytest.FixtureRequest, tiny_geometry: Geometry) -> CaloFlow | ICaloFlow:
    cls = MODELS.get(request.param)
    model = cls(tiny_geometry, cls.smoke_config())
    model.fit_preprocessing(*_tensors(tiny_geometry))
    return model


def test_registered() -> None:
    assert MODELS.get("caloflow") is CaloFlow
    assert MODELS.get("icaloflow") is ICaloFlow


def test_maf_invertible_and_density_consistent() -> None:
    flow = ConditionalMAF(5, 2, TINY)
    x, c = torch.randn(16, 5) * 2, torch.rand(16, 2)
    z, ladj = flow(x, c)
    assert torch.allclose(flow.inverse(z, c), x, atol=1e-4)
    jac = torch.autograd.functional.jacobian(lambda v: flow(v[None], c[:1])[0][0], x[0])
    assert torch.allclose(ladj[0], torch.linalg.slogdet(jac)[1], atol=1e-4)


def test_iaf_invertible_and_single_pass_direction() -> None:
    flow = ConditionalIAF(5, 2, TINY)
    z, c = torch.randn(16, 5), torch.rand(16, 2)
    x = flow(z, c)
    back, _ = flow.inverse(x, c)
    assert torch.allclose(back, z, atol=1e-4)
    assert torch.isfinite(flow.log_prob(x, c)).all()
    # autoregressive: output i depends only on inputs j <= i in the first block's order
    jac = torch.autograd.functional.jacobian(lambda v: flow.block(0, c[:1])(v[None])[0], z[0])
    assert torch.count_nonzero(torch.triu(jac, diagonal=1)) == 0


def test_preprocessing_jacobian_matches_autograd(tiny_geometry: Geometry) -> None:
    showers, conditions = _tensors(tiny_geometry, 8)
    prep = FlowPreprocessing(tiny_geometry, noise_mev=1e-3)
    prep.fit(showers, conditions)
    features = prep.encode(showers, conditions, dequantise="mid")
    u, f = prep.fractions.split(prep.fractions(prep.dequantise(showers, "mid"), conditions))

    def to_features(uf: torch.Tensor) -> torch.Tensor:
        uu, ff = uf[: u.shape[1]][None], uf[u.shape[1] :][None]
        a = prep.layer_std(prep.layer_log(uu, conditions[:1]), conditions[:1])
        b = prep.voxel_std(prep.voxel_logit(ff, conditions[:1]), conditions[:1])
        return torch.cat([a, b], dim=1)[0]

    jac = torch.autograd.functional.jacobian(to_features, torch.cat([u[0], f[0]]).double().float())
    expected = torch.log(torch.diagonal(jac).abs()).sum()
    assert torch.allclose(features.log_jacobian[0], expected, rtol=1e-4)


def test_preprocessing_round_trip(tiny_geometry: Geometry) -> None:
    showers, conditions = _tensors(tiny_geometry, 16)
    prep = FlowPreprocessing(tiny_geometry, noise_mev=0.0)
    prep.fit(showers, conditions)
    features = prep.encode(showers, conditions, dequantise="none")
    assert torch.allclose(prep.decode(features.layers, features.voxels, conditions), showers, rtol=1e-3, atol=1e-3)


def test_log_prob_finite_and_deterministic(fitted: CaloFlow | ICaloFlow, tiny_geometry: Geometry) -> None:
    showers, conditions = _tensors(tiny_geometry, 16)
    log_p = fitted.log_prob(showers, conditions)
    assert log_p.shape == (16,)
    assert torch.isfinite(log_p).all()
    assert torch.equal(log_p, fitted.log_prob(showers, conditions))


def test_groups_schedule_and_gradients(fitted: CaloFlow | ICaloFlow, tiny_geometry: Geometry) -> None:
    steps = fitted.config.teacher_steps
    assert [fitted.group_for_step(s) for s in (0, steps - 1, steps, steps + 5)] == [
        "teacher",
        "teacher",
        "student",
        "student",
    ]
    groups = fitted.optimizer_groups()
    batch = ShowerBatch(*_tensors(tiny_geometry, 16))
    for group, own in groups.items():
        fitted.zero_grad(set_to_none=True)
        out = fitted.loss(batch, group)
        assert torch.isfinite(out.loss)
        out.loss.backward()
        others = [p for name, ps in groups.items() if name != group for p in ps]
        assert all(p.grad is not None for p in own), group
        assert all(p.grad is None for p in others), group
    assert {id(p) for ps in groups.values() for p in ps} == {id(p) for p in fitted.parameters()}
    with pytest.raises(KeyError, match="choices"):
        fitted.loss(batch, "main")


def test_teacher_training_lowers_nll(tiny_geometry: Geometry) -> None:
    model = CaloFlow(tiny_geometry, CaloFlowConfig(energy_flow=TINY, voxel_flow=TINY, student_flow=TINY))
    showers, conditions = _tensors(tiny_geometry)
    model.fit_preprocessing(showers, conditions)
    batch = ShowerBatch(showers, conditions)
    with torch.no_grad():
        before = float(-model.log_prob(showers, conditions).mean())
    opt = torch.optim.Adam(model.optimizer_groups()["teacher"], lr=3e-3)
    for _ in range(40):
        opt.zero_grad()
        model.loss(batch, "teacher").loss.backward()
        opt.step()
    with torch.no_grad():
        assert float(-model.log_prob(showers, conditions).mean()) < before - 1.0


def test_distillation_reduces_student_teacher_discrepancy() -> None:
    teacher, student = ConditionalMAF(6, 1, TINY), ConditionalIAF(6, 1, TINY)
    x = torch.randn(64, 6) * torch.linspace(0.5, 2.0, 6) + torch.linspace(-1, 1, 6)
    c = torch.rand(64, 1)
    opt = torch.optim.Adam(teacher.parameters(), lr=1e-2)
    for _ in range(20):
        opt.zero_grad()
        (-teacher.log_prob(x, c).mean()).backward()
        opt.step()
    noise, context = torch.randn(64, 6), torch.rand(64, 1)
    before = student_discrepancy(teacher, student, noise, context)
    teacher_state = {k: v.clone() for k, v in teacher.state_dict().items()}
    opt = torch.optim.Adam(student.parameters(), lr=1e-2)
    for _ in range(30):
        opt.zero_grad()
        distillation_loss(teacher, student, x, c).loss.backward()
        opt.step()
    after = student_discrepancy(teacher, student, noise, context)
    assert after < 0.3 * before
    assert all(torch.equal(v, teacher.state_dict()[k]) for k, v in teacher_state.items())


def test_decode_uses_teacher_until_distilled(
    fitted: CaloFlow | ICaloFlow, tiny_geometry: Geometry, caplog: pytest.LogCaptureFixture
) -> None:
    _, conditions = _tensors(tiny_geometry, 8)
    noise = fitted.sample_noise(8)
    with torch.no_grad(), caplog.at_level(logging.WARNING):
        undistilled = fitted.decode(conditions, noise)
    assert "not been distilled" in caplog.text
    fitted.sample_with = "teacher"
    with torch.no_grad():
        assert torch.equal(fitted.decode(conditions, noise), undistilled)
    fitted.train()
    fitted.loss(ShowerBatch(*_tensors(tiny_geometry, 8)), "student")
    assert fitted.student_trained
    fitted.sample_with = "student"
    with torch.no_grad():
        student = fitted.decode(conditions, noise)
    assert student.shape == (8, tiny_geometry.n_voxels)
    assert not torch.equal(student, undistilled)
    assert (student >= 0).all()
    assert torch.isfinite(student).all()


def test_validation_does_not_mark_student_trained(fitted: CaloFlow | ICaloFlow, tiny_geometry: Geometry) -> None:
    fitted.eval()
    fitted.loss(ShowerBatch(*_tensors(tiny_geometry, 8)), "student")
    assert not fitted.student_trained


def test_samples_respect_energy_scale(fitted: CaloFlow | ICaloFlow) -> None:
    conditions = torch.tensor([[1e3], [1e5]]).repeat(8, 1)
    showers = fitted.sample(conditions)
    totals = showers.sum(1).reshape(8, 2)
    assert (totals[:, 1] > totals[:, 0]).all()
    assert (showers[showers > 0] >= fitted.config.noise_mev).all()


def test_save_load_round_trip(fitted: CaloFlow | ICaloFlow, tiny_geometry: Geometry, tmp_path: Path) -> None:
    fitted.train()
    fitted.loss(ShowerBatch(*_tensors(tiny_geometry, 8)), "student")
    save_model(fitted, tmp_path / "flow.pt")
    loaded = load_model(tmp_path / "flow.pt")
    assert type(loaded) is type(fitted)
    assert loaded.config == fitted.config
    assert loaded.student_trained
    showers, conditions = _tensors(tiny_geometry, 8)
    fitted.eval()
    assert torch.allclose(loaded.log_prob(showers, conditions), fitted.log_prob(showers, conditions))
    noise = fitted.sample_noise(4)
    with torch.no_grad():
        assert torch.allclose(loaded.decode(conditions[:4], noise), fitted.decode(conditions[:4], noise))


def test_inductive_layers_depend_only_on_earlier_layers(tiny_geometry: Geometry) -> None:
    model = ICaloFlow(tiny_geometry, ICaloFlow.smoke_config())
    showers, conditions = _tensors(tiny_geometry, 4)
    model.fit_preprocessing(showers, conditions)
    features = model.preprocessing.encode(showers, conditions, dequantise="mid")
    rows, context = model._rows(features)
    per_layer = model.teacher.log_prob(rows, context).reshape(4, -1)
    size = model.layer_size
    features.voxels[:, 2 * size :] += 1.0  # change the last layer only
    rows2, context2 = model._rows(features)
    per_layer2 = model.teacher.log_prob(rows2, context2).reshape(4, -1)
    assert torch.allclose(per_layer[:, :2], per_layer2[:, :2])
    assert not torch.allclose(per_layer[:, 2], per_layer2[:, 2])


def test_inductive_rejects_unequal_layers() -> None:
    geometry = Geometry.regular("ragged", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    ragged = Geometry("ragged", (geometry.layers[0], type(geometry.layers[0])(r_edges=(0.0, 1.0, 2.0, 3.0))))
    with pytest.raises(ValueError, match="equal size"):
        ICaloFlow(ragged, ICaloFlow.smoke_config())


def test_angle_conditions(tiny_geometry: Geometry) -> None:
    data = make_showers(tiny_geometry, 16, angles=True)
    model = build_model("caloflow", tiny_geometry, CaloFlow.smoke_config(), n_conditions=2)
    showers, conditions = torch.from_numpy(data.showers), torch.from_numpy(data.conditions())
    model.fit_preprocessing(showers, conditions)
    assert torch.isfinite(model.log_prob(showers, conditions)).all()
    assert model.sample(conditions[:3]).shape == (3, tiny_geometry.n_voxels)


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="transforms"):
        FlowConfig(transforms=0)
    with pytest.raises(ValueError, match="distill_weights"):
        CaloFlowConfig(distill_weights=(0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="must match"):
        distillation_loss(
            ConditionalMAF(3, 1, TINY),
            ConditionalIAF(3, 1, FlowConfig(transforms=3, hidden=(8,), bins=4)),
            torch.randn(2, 3),
            torch.rand(2, 1),
        )


@pytest.mark.parametrize("hidden", [(4,), (32, 16)])
def test_made_masks_follow_the_order(hidden: tuple[int, ...]) -> None:
    order = torch.tensor([3, 0, 4, 1, 2])
    made = MADE(5, 2, 3, hidden, order)
    x, c = torch.randn(5), torch.rand(2)
    jac = torch.autograd.functional.jacobian(lambda v: made(v[None, :5], v[None, 5:])[0].sum(-1), torch.cat([x, c]))
    allowed = order[:, None] > order[None, :]
    assert torch.count_nonzero(jac[:, :5][~allowed]) == 0
    assert torch.count_nonzero(jac[:, 5:]) > 0
    if hidden == (32, 16):  # wide enough: every allowed dependency is present
        assert (jac[:, :5][allowed] != 0).all()
