"""The pretrained zoo: shipped manifest, add → list → load round trip, hash refusal, errors, default sampler."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import pytest
import torch

from caloforge.geometry import Geometry
from caloforge.models import CheckpointError, list_pretrained, load_pretrained, model_state
from caloforge.models.integrity import INTEGRITY_KEY
from caloforge.models.pretrained import (
    ZOO_DIR_ENV,
    PretrainedModel,
    ZooError,
    add_to_zoo,
    get_pretrained,
    metrics_from_report,
    pretrained_file,
    render_card,
    resolve_zoo_dir,
)
from caloforge.models.pretrained.add import MAX_ZOO_BYTES
from caloforge.models.pretrained.card import CARD_SECTIONS
from caloforge.models.pretrained.zoo import file_sha256
from caloforge.models.serialization import save_state
from caloforge.training.checkpoint import FORMAT
from tests.export.conftest import fitted

from .pretrained_zoo import add_tiny, write_report

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def zoo(tmp_path: Path) -> Path:
    return tmp_path / "zoo"


def test_shipped_zoo_is_package_data_and_consistent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ZOO_DIR_ENV, raising=False)
    manifest = importlib.resources.files("caloforge.models.pretrained").joinpath("manifest.json")
    assert manifest.is_file()
    assert json.loads(manifest.read_text())["format"] == "caloforge-zoo-1"
    entries = list_pretrained()
    total = 0
    for entry in entries:  # every shipped entry: weights present and matching, card written
        path = pretrained_file(entry.name)
        total += path.stat().st_size
        assert path.stat().st_size == entry.size_bytes
        assert (REPO / entry.card).is_file(), f"{entry.name}: model card {entry.card} is missing"
    assert total <= MAX_ZOO_BYTES
    shipped = {p.name for p in resolve_zoo_dir().glob("*.pt")}
    assert shipped == {e.file for e in entries}, "weights files without a manifest entry (or the reverse)"


def test_add_list_load_round_trip(zoo: Path, tiny_geometry: Geometry) -> None:
    entry = add_tiny(zoo, tiny_geometry, "vae-tiny")
    assert (zoo / "vae-tiny.pt").is_file()
    assert entry.sha256 == file_sha256(zoo / "vae-tiny.pt")
    assert entry.model == "vae"
    assert entry.family == "vae"
    assert entry.geometry == "tiny"
    assert entry.single_pass
    assert entry.steps == 1
    assert entry.metrics.voxel_auc == pytest.approx(0.71)
    assert entry.metrics.reference == "heldout.h5 (64 showers)"
    lo, hi = entry.energy_range_gev
    assert 1.0 <= lo < hi <= 100.0  # the fitted range of the synthetic 1-100 GeV showers
    assert list_pretrained(zoo_dir=zoo) == [entry]
    assert PretrainedModel.from_dict(json.loads((zoo / "manifest.json").read_text())["models"][0]) == entry

    source = torch.load(zoo.parent / "vae-tiny-source.pt", weights_only=True)
    model = load_pretrained("vae-tiny", zoo_dir=zoo)
    assert not model.training
    c = torch.full((4, 1), 1e4)
    noise = model.sample_noise(4, generator=torch.Generator().manual_seed(0))
    from caloforge.models import load_model

    assert torch.equal(model.decode(c, noise), load_model(source).decode(c, noise))


def test_environment_variable_selects_the_zoo(zoo: Path, tiny_geometry: Geometry, monkeypatch: pytest.MonkeyPatch) -> None:
    add_tiny(zoo, tiny_geometry, "vae-tiny")
    monkeypatch.setenv(ZOO_DIR_ENV, str(zoo))
    assert resolve_zoo_dir() == zoo
    assert [e.name for e in list_pretrained()] == ["vae-tiny"]
    assert load_pretrained("vae-tiny").is_fitted


def test_training_checkpoint_is_stripped_to_ema_weights(zoo: Path, tmp_path: Path, tiny_geometry: Geometry) -> None:
    model = fitted("vae", tiny_geometry)
    shadow = {k: v + 1.0 for k, v in model.state_dict().items() if v.is_floating_point() and not k.startswith("_")}
    shadow = dict(list(shadow.items())[:2])
    optimizer = torch.optim.Adam(model.parameters())
    checkpoint = tmp_path / "last.pt"
    save_state({"format": FORMAT, "model": model_state(model), "ema": {"shadow": shadow},
                "optimizers": {"main": optimizer.state_dict()}, "counters": {"step": 7}}, checkpoint)
    training = {"data": "synthetic", "showers": 64, "cpu_hours": 0.0, "command": "caloforge train"}
    metrics = metrics_from_report(write_report(tmp_path / "m.json"), command="caloforge evaluate")
    entry = add_to_zoo(checkpoint, "vae-ema", particle="photon", training=training, metrics=metrics,
                       ms_per_shower=0.1, card="docs/models/vae-ema.md", zoo_dir=zoo)
    assert entry.training.steps == 7  # read from the checkpoint's counters
    stored = torch.load(zoo / "vae-ema.pt", weights_only=True)
    assert set(stored) - {INTEGRITY_KEY} == set(model_state(model))  # no optimizer, EMA, counters or RNG state
    for key, value in shadow.items():
        assert torch.equal(stored["state_dict"][key], value)
        assert stored["state_dict"][key].dtype == torch.float32


def test_hash_mismatch_is_refused(zoo: Path, tiny_geometry: Geometry) -> None:
    add_tiny(zoo, tiny_geometry, "vae-a")
    add_tiny(zoo, tiny_geometry, "vae-b")
    (zoo / "vae-a.pt").write_bytes((zoo / "vae-b.pt").read_bytes())  # a valid model, but not the one hashed
    with pytest.raises(CheckpointError, match=r"vae-a\.pt: SHA-256 .* does not match"):
        load_pretrained("vae-a", zoo_dir=zoo)
    (zoo / "vae-b.pt").unlink()
    with pytest.raises(CheckpointError, match=r"vae-b\.pt: weights .* missing"):
        load_pretrained("vae-b", zoo_dir=zoo)


def test_unknown_name_lists_the_available_ones(zoo: Path, tiny_geometry: Geometry) -> None:
    with pytest.raises(KeyError, match="is empty"):
        load_pretrained("nope", zoo_dir=zoo)
    add_tiny(zoo, tiny_geometry, "vae-a")
    with pytest.raises(KeyError, match="no pretrained model 'nope'; available: vae-a"):
        get_pretrained("nope", zoo_dir=zoo)


def test_malformed_manifest_names_the_problem(zoo: Path, tiny_geometry: Geometry) -> None:
    add_tiny(zoo, tiny_geometry, "vae-a")
    body = json.loads((zoo / "manifest.json").read_text())
    body["models"][0]["voxel_aucc"] = 0.5
    (zoo / "manifest.json").write_text(json.dumps(body))
    with pytest.raises(ZooError, match=r"manifest.json: models\[0\]: unknown key\(s\) \['voxel_aucc'\]"):
        list_pretrained(zoo_dir=zoo)
    del body["models"][0]["voxel_aucc"]
    body["models"][0]["file"] = "../elsewhere.pt"
    (zoo / "manifest.json").write_text(json.dumps(body))
    with pytest.raises(ZooError, match="plain file name"):
        list_pretrained(zoo_dir=zoo)
    (zoo / "manifest.json").write_text("{")
    with pytest.raises(ZooError, match="cannot read the zoo manifest"):
        list_pretrained(zoo_dir=zoo)


def test_add_refuses_duplicates_bad_names_and_oversize(zoo: Path, tiny_geometry: Geometry) -> None:
    add_tiny(zoo, tiny_geometry, "vae-a")
    with pytest.raises(FileExistsError, match="already has 'vae-a'"):
        add_tiny(zoo, tiny_geometry, "vae-a")
    replaced = add_tiny(zoo, tiny_geometry, "vae-a", replace=True, particle="photon")
    assert [e.particle for e in list_pretrained(zoo_dir=zoo)] == [replaced.particle] == ["photon"]
    with pytest.raises(ZooError, match="must match"):
        add_tiny(zoo, tiny_geometry, "Bad Name")
    with pytest.raises(ValueError, match="over the 0 MB budget"):
        add_tiny(zoo, tiny_geometry, "vae-big", max_total_bytes=100)
    assert not (zoo / "vae-big.pt").exists()
    assert [e.name for e in list_pretrained(zoo_dir=zoo)] == ["vae-a"]
    with pytest.raises(ValueError, match="flow-matching models only"):
        add_tiny(zoo, tiny_geometry, "vae-c", sampler="euler:2")


def test_flow_matching_default_sampler(zoo: Path, tiny_geometry: Geometry) -> None:
    entry = add_tiny(zoo, tiny_geometry, "fm-tiny", "flow-matching", sampler="midpoint:3")
    assert entry.family == "flow-matching"
    assert entry.sampler is not None
    assert entry.sampler.spec == "midpoint:3"
    assert (entry.steps, entry.single_pass) == (6, False)  # 3 steps x 2 stages
    model = load_pretrained("fm-tiny", zoo_dir=zoo)
    assert (model.config.solver, model.config.n_steps) == ("midpoint", 3)
    body = json.loads((zoo / "manifest.json").read_text())
    body["models"][0]["sampler"] = {"solver": "euler", "steps": 2}  # the manifest decides the default
    (zoo / "manifest.json").write_text(json.dumps(body))
    model = load_pretrained("fm-tiny", zoo_dir=zoo)
    assert (model.config.solver, model.config.n_steps) == ("euler", 2)


def test_metrics_from_report_needs_both_classifier_tests(tmp_path: Path) -> None:
    path = write_report(tmp_path / "metrics.json")
    body = json.loads(path.read_text())
    del body["generated"]["gen"]["classifier"]["high"]
    path.write_text(json.dumps(body))
    with pytest.raises(ValueError, match="lacks classifier test 'high'"):
        metrics_from_report(path, command="caloforge evaluate")
    with pytest.raises(ValueError, match="no generated sample 'other'"):
        metrics_from_report(path, command="caloforge evaluate", label="other")


def test_card_draft_has_every_section(zoo: Path, tiny_geometry: Geometry) -> None:
    card = render_card(add_tiny(zoo, tiny_geometry, "vae-a"))
    for section in CARD_SECTIONS:
        assert f"\n## {section}\n" in card
    assert "0.710" in card
    assert "caloforge generate --pretrained vae-a" in card
