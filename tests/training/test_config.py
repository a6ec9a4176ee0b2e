"""Run configs: YAML + overrides → validated dataclasses, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from caloforge.config import ConfigError, load_config_file
from caloforge.training import RunConfig, load_run_config, run_config_from_dict

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_overrides_and_types(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("model:\n  name: vae\n  config: {latent_dim: 6}\ndata: {path: a.h5}\ntrain: {max_steps: 5}\n")
    config = load_run_config(path, ["train.max_steps=7", "model.config.beta=0.5", "train.betas=[0.5, 0.9]"])
    assert isinstance(config, RunConfig)
    assert config.train.max_steps == 7
    assert config.train.betas == (0.5, 0.9)
    assert (config.model.config.latent_dim, config.model.config.beta) == (6, 0.5)
    assert run_config_from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"model": {"name": "nope"}, "data": {"path": "a.h5"}}, "unknown model 'nope'"),
        ({"model": {"name": "vae", "config": {"latent": 3}}, "data": {"path": "a.h5"}}, r"model\.config"),
        ({"model": {"name": "vae"}, "data": {"path": "a.h5"}, "train": {"lr": "fast"}}, r"train\.lr"),
        ({"model": {"name": "vae"}, "data": {"path": "a.h5"}, "train": {"batch_size": 0}}, "batch_size"),
        ({"model": {"name": "vae"}, "data": {}}, "either path"),
        ({"model": {"name": "vae"}, "data": {"simulate": {"n": 10}}}, "geometry is required"),
        ({"model": {"name": "vae"}, "data": {"path": "a.h5"}, "extra": 1}, "unknown key"),
    ],
)
def test_invalid_configs(data: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        run_config_from_dict(data)


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("vae-*.yaml")), ids=lambda p: p.name)
def test_shipped_vae_configs_validate(path: Path) -> None:
    config = run_config_from_dict(load_config_file(path))
    assert config.model.name == "vae"
    for value in (config.data.path, config.out):
        assert value is None or not Path(value).is_absolute(), "configs hold relative paths only"


def test_model_spec_holds_the_validated_config_dataclass() -> None:
    from caloforge.models.vae import VAEConfig
    from caloforge.training import ModelSpec

    spec = ModelSpec("vae", {"latent_dim": 6})
    assert spec.config == VAEConfig(latent_dim=6)
    assert ModelSpec("vae").config == VAEConfig()
    assert ModelSpec("vae", VAEConfig(latent_dim=6)) == spec
    assert ModelSpec(**spec.to_dict()) == spec
    with pytest.raises(ConfigError, match=r"model\.config: model 'wgan' takes a WGANConfig.*got VAEConfig"):
        ModelSpec("wgan", VAEConfig())
    with pytest.raises(ConfigError, match="unknown model 'nope'"):
        ModelSpec("nope")


def test_misspelt_keys_get_did_you_mean() -> None:
    from caloforge.config import ConfigError
    from caloforge.training import run_config_from_dict

    base = {"model": {"name": "vae"}, "data": {"path": "x.h5"}}
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['max_step'\] \(did you mean 'max_steps'\?\)"):
        run_config_from_dict({**base, "train": {"max_step": 3}})
    with pytest.raises(ConfigError, match=r"did you mean 'latent_dim'\?"):
        run_config_from_dict({**base, "model": {"name": "vae", "config": {"latnt_dim": 3}}})
    with pytest.raises(ConfigError) as err:
        run_config_from_dict({**base, "train": {"zzzz": 1}})
    assert "did you mean" not in str(err.value)
