"""Pipeline configs: validation, YAML files with relative paths, the shipped demo."""

from __future__ import annotations

from pathlib import Path

import pytest

from caloforge.config import ConfigError
from caloforge.pipeline import demo_config, load_pipeline_config, pipeline_from_dict

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_defaults_and_labels() -> None:
    cfg = pipeline_from_dict({"models": [{"name": "vae"}, {"name": "vae", "label": "vae-big"}]})
    assert [m.label for m in cfg.models] == ["vae", "vae-big"]
    assert cfg.data.source == "simulate"
    assert cfg.reference_ms_per_shower > 0


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"models": []}, "at least one model"),
        ({"data": {"source": "file"}}, "train_file and reference_file"),
        ({"data": {"n_trian": 5}}, "unknown key"),
        ({"models": [{"name": "vae", "seed": "one"}]}, "integer"),
    ],
)
def test_invalid_configs(data: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        pipeline_from_dict(data)


def test_file_paths_are_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "data: {source: file, train_file: d/train.h5, reference_file: /abs/ref.h5}\nmodels: [{name: vae}]\n"
    )
    cfg = load_pipeline_config(tmp_path / "p.yaml")
    assert cfg.resolve(cfg.data.train_file or "") == tmp_path / "d" / "train.h5"
    assert cfg.resolve(cfg.data.reference_file or "") == Path("/abs/ref.h5")


def test_demo_config_is_shipped_and_matches_configs_copy() -> None:
    from caloforge.models import MODELS

    demo = demo_config()
    assert demo.data.geometry == "calochallenge-2"
    for spec in demo.models:
        assert spec.name in MODELS
    copy = load_pipeline_config(CONFIGS / "pipeline-demo.yaml")
    assert copy.to_dict() == demo.to_dict()
