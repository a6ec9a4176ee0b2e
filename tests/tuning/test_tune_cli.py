"""``caloforge tune`` end to end on a smoke VAE: trial directories, best.yaml, report, resume, refusals."""

from __future__ import annotations

import json

import pytest
import yaml

pytest.importorskip("optuna")
pytest.importorskip("torch")

from caloforge.cli.main import main
from caloforge.training import load_run_config


def _write(tmp_path, data, name="tune.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_tune_end_to_end_resumes_and_writes_a_trainable_best_yaml(tmp_path, tune_dict, capsys):
    path = _write(tmp_path, tune_dict)
    assert main(["tune", "--config", str(path), "-q"]) == 0
    out = tmp_path / "out"
    assert "best        trial" in capsys.readouterr().out
    for name in ("best.yaml", "study.json", "report.html", "study.db", "history.png", "trial-0/config.yaml",
                 "trial-1/checkpoints/last.pt"):
        assert (out / name).exists(), name
    study = json.loads((out / "study.json").read_text())
    assert [t["state"] for t in study["trials"]] == ["complete", "complete"]
    assert all(len(t["intermediate"]) == 3 for t in study["trials"])  # one value per epoch reached the pruner
    best = study["best"]

    config = load_run_config(out / "best.yaml")  # round-trips to a RunConfig
    trial = load_run_config(out / f"trial-{best['number']}" / "config.yaml")
    assert config.out == str(out / "best")
    assert config.train == trial.train
    assert config.model == trial.model
    assert config.data == trial.data
    assert config.train.lr == pytest.approx(best["params"]["train.lr"])
    assert list(config.model.config.hidden) == best["params"]["model.config.hidden"]
    assert "<table>" in (out / "report.html").read_text()

    assert main(["tune", "--config", str(path), "--n-trials", "3", "-q"]) == 0  # continues the same study
    study = json.loads((out / "study.json").read_text())
    assert [t["number"] for t in study["trials"]] == [0, 1, 2]
    assert (out / "trial-2" / "result.json").exists()

    tune_dict["search_space"]["train.lr"]["low"] = 1e-3
    assert main(["tune", "--config", str(_write(tmp_path, tune_dict)), "-q"]) == 2
    err = capsys.readouterr().err
    assert "another tune config" in err
    assert "--force" in err


def test_fidelity_objective_and_baseline(tmp_path, tune_dict, capsys):
    tune_dict.update(n_trials=1, objective={"metric": "fidelity", "n_holdout": 40, "prune_showers": 20})
    assert main(["tune", str(_write(tmp_path, tune_dict)), "--baseline", "-q"]) == 0
    assert "baseline    " in capsys.readouterr().out
    study = json.loads((tmp_path / "out" / "study.json").read_text())
    trial = study["trials"][0]
    assert trial["value"] == pytest.approx(trial["user_attrs"]["response_sp"] + abs(trial["user_attrs"]["auc"] - 0.5))
    assert len(trial["intermediate"]) == 3
    baseline = json.loads((tmp_path / "out" / "baseline.json").read_text())
    assert study["baseline"]["value"] == pytest.approx(baseline["score"])


def test_outputs_of_another_study_are_not_overwritten(tmp_path, tune_dict, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "best.yaml").write_text("model: {name: vae}\n")
    tune_dict["storage"] = f"sqlite:///{tmp_path / 'other.db'}"
    assert main(["tune", str(_write(tmp_path, tune_dict)), "-q"]) == 2
    assert "already holds the outputs of another study" in capsys.readouterr().err
    assert (tmp_path / "out" / "best.yaml").read_text() == "model: {name: vae}\n"


def test_without_optuna_the_command_names_the_extra(tmp_path, tune_dict, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now raises ModuleNotFoundError
    assert main(["tune", str(_write(tmp_path, tune_dict)), "-q"]) == 2
    assert "caloforge tune needs Optuna: pip install 'caloforge[tune]'" in capsys.readouterr().err


def test_objective_seeds_train_each_trial_once_per_seed_and_average(tmp_path, tune_dict):
    tune_dict.update(n_trials=1, objective={"metric": "val_loss", "seeds": [3, 4]})
    assert main(["tune", str(_write(tmp_path, tune_dict)), "-q"]) == 0
    out = tmp_path / "out"
    trial = json.loads((out / "study.json").read_text())["trials"][0]
    scores = trial["user_attrs"]["seed_scores"]
    assert len(scores) == 2
    assert scores[0] != scores[1]
    assert trial["value"] == pytest.approx(sum(scores) / 2)
    seeds = [load_run_config(out / "trial-0" / f"seed-{s}" / "config.yaml").train.seed for s in (3, 4)]
    assert seeds == [3, 4]
    assert len(trial["intermediate"]) == 3  # the first seed's run fed the pruner
