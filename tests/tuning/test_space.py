"""The search space and the tune config: good YAML parses, bad YAML fails naming the key."""

from __future__ import annotations

import pytest
import yaml

from caloforge.config import ConfigError, apply_overrides
from caloforge.tuning import load_tune_config, parse_space
from caloforge.tuning.config import tune_config_from_dict
from caloforge.tuning.space import to_overrides


def test_ranges_and_choices_parse():
    space = parse_space({
        "train.lr": {"low": 1e-4, "high": 1e-2, "log": True},
        "model.config.latent_dim": {"low": 2, "high": 8},
        "train.warmup_steps": {"low": 0, "high": 100, "step": 10},
        "model.config.hidden": {"choices": [[16], [8, 8]]},
        "train.ema_decay": {"choices": [None, 0.99]},
    })
    kinds = {p.key: p.kind for p in space}
    assert kinds == {"train.lr": "float", "model.config.latent_dim": "int", "train.warmup_steps": "int",
                     "model.config.hidden": "choice", "train.ema_decay": "choice"}
    assert space[0].log
    assert space[0].low == pytest.approx(1e-4)
    assert space[3].labels() == ["[16]", "[8, 8]"]


def test_overrides_round_trip_through_apply_overrides():
    values = {"train.lr": 1e-05, "model.config.hidden": [8, 8], "train.ema_decay": None, "train.scheduler": "constant"}
    out = apply_overrides({"train": {}}, to_overrides(values))
    assert out["train"]["lr"] == 1e-05  # YAML reads "1.0e-05" as a float, not a string
    assert out["model"]["config"]["hidden"] == [8, 8]
    assert out["train"]["ema_decay"] is None
    assert out["train"]["scheduler"] == "constant"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"train.lr": {"low": 1e-2, "high": 1e-4}}, "search_space.train.lr: low"),
        ({"train.lr": {"low": 0.0, "high": 1.0, "log": True}}, "search_space.train.lr: a log range needs low > 0"),
        ({"train.lr": {"lo": 0.1, "high": 1.0}}, "search_space.train.lr: unknown key(s) ['lo']"),
        ({"train.lr": {"low": "a", "high": 1.0}}, "search_space.train.lr: low and high must be numbers"),
        ({"model.config.hidden": {"choices": []}}, "search_space.model.config.hidden: choices must be a non-empty"),
        ({"model.config.hidden": {"choices": [[1], [1]]}}, "search_space.model.config.hidden: choices"),
        ({"train.lr": 0.1}, "search_space.train.lr: expected {low"),
        ({"train..lr": {"low": 0.1, "high": 1.0}}, "search_space: 'train..lr' is not a dotted config key"),
    ],
)
def test_malformed_entries_name_the_key(entry, expected):
    with pytest.raises(ConfigError) as err:
        parse_space(entry)
    assert expected in str(err.value)


def test_keys_the_run_config_refuses_name_the_key(tune_dict):
    tune_dict["search_space"] = {"model.config.latnt_dim": {"low": 2, "high": 4}}
    with pytest.raises(ConfigError, match=r"search_space\.model\.config\.latnt_dim: .*latent_dim"):
        tune_config_from_dict(tune_dict)
    tune_dict["search_space"] = {"train.batch_size": {"low": 0, "high": 4}}
    with pytest.raises(ConfigError, match=r"search_space\.train\.batch_size: the value 0"):
        tune_config_from_dict(tune_dict)


def test_tune_config_sections(tune_dict):
    tune_dict["objective"] = {"metric": "fidelty"}
    with pytest.raises(ConfigError, match=r"objective\.metric: 'fidelty' is not one of"):
        tune_config_from_dict(tune_dict)
    tune_dict["objective"] = {"metric": "val_loss"}
    tune_dict["pruner"] = {"kind": "median", "patience": 3}
    with pytest.raises(ConfigError, match=r"pruner: unknown key\(s\) \['patience'\]"):
        tune_config_from_dict(tune_dict)
    del tune_dict["pruner"]
    tune_dict["n_trial"] = 3
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['n_trial'\]"):
        tune_config_from_dict(tune_dict)


def test_file_errors_name_the_file_and_base_is_relative_to_it(tmp_path, tune_dict):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(tune_dict.pop("base")))
    tune_dict["base"] = "base.yaml"
    path = tmp_path / "sub" / "tune.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(tune_dict))
    with pytest.raises(ConfigError, match=r"tune\.yaml: .*cannot read config file"):
        load_tune_config(path)
    tune_dict["base"] = "../base.yaml"
    path.write_text(yaml.safe_dump(tune_dict))
    cfg = load_tune_config(path, ["n_trials=7"])
    assert cfg.n_trials == 7
    assert cfg.study_name == "test"
    assert cfg.base["model"]["name"] == "vae"
    run = cfg.run_config({"train.lr": 0.002}, tmp_path / "run")
    assert run.train.lr == pytest.approx(0.002)
    assert run.train.progress is False


def test_the_shipped_tune_config_validates(capsys):
    from pathlib import Path

    from caloforge.cli.main import main

    path = Path(__file__).resolve().parents[2] / "configs" / "tune-vae-demo.yaml"
    cfg = load_tune_config(path)
    assert cfg.study_name == "tune-vae-demo"
    assert cfg.objective.metric == "fidelity"
    assert cfg.budget.max_steps is not None
    assert main(["config", "list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("tune-vae-demo"))
    assert " tune " in row
