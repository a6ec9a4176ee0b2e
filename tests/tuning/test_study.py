"""The study: TPE on a toy objective, the pruner fed per epoch, resume after an interruption, config changes."""

from __future__ import annotations

import time

import pytest

optuna = pytest.importorskip("optuna")

from caloforge.tuning import PruningCallback, parse_space
from caloforge.tuning.config import tune_config_from_dict
from caloforge.tuning.report import study_summary
from caloforge.tuning.study import StudyMismatchError, finished_trials, open_study, run_trials

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _quadratic(trial, values):
    return (values["model.x"] - 0.7) ** 2 + (values["model.n"] - 3) ** 2


def test_tpe_finds_the_optimum_of_a_quadratic():
    space = parse_space({"model.x": {"low": -5.0, "high": 5.0}, "model.n": {"low": -10, "high": 10}})
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=2, n_startup_trials=6))
    assert run_trials(study, space, _quadratic, n_trials=30) == 30
    assert study.best_params["model.n"] == 3
    assert abs(study.best_params["model.x"] - 0.7) < 0.5
    assert study.best_value < 1.0  # random points: E[(x - 0.7)^2 + (n - 3)^2] is about 50


class _Trainer:
    def __init__(self) -> None:
        self.epoch, self.should_stop, self.stop_reason = 0, False, None


def _epochs(losses):
    """An objective that 'trains' for len(losses) epochs, feeding the pruner through the callback."""

    def objective(trial, values):
        trainer, cb = _Trainer(), PruningCallback(trial)
        for epoch, loss in enumerate(losses[trial.number]):
            trainer.epoch = epoch
            cb.on_epoch_end(trainer, {"val/loss": loss})
            if trainer.should_stop:
                assert trainer.stop_reason == "pruned"
                raise optuna.TrialPruned
        return losses[trial.number][-1]

    return objective


def test_the_pruner_receives_every_epoch_and_prunes(tune_dict):
    space = parse_space({"train.lr": {"low": 0.1, "high": 1.0}})
    study = optuna.create_study(pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=1))
    losses = [[5.0, 4.0, 3.0, 2.0], [6.0, 5.5, 5.4, 5.3], [4.0, 3.0, 2.0, 1.0]]
    run_trials(study, space, _epochs(losses), n_trials=3)
    states = [t.state.name for t in study.trials]
    assert states == ["COMPLETE", "PRUNED", "COMPLETE"]
    assert study.trials[0].intermediate_values == {0: 5.0, 1: 4.0, 2: 3.0, 3: 2.0}
    assert study.trials[1].intermediate_values == {0: 6.0, 1: 5.5}  # pruned after the warm-up epoch
    summary = study_summary(study, tune_dict_config(tune_dict))
    assert [t["value"] for t in summary["trials"]] == [2.0, None, 1.0]  # a pruned trial has no score
    assert summary["n_pruned"] == 1
    assert summary["best"]["number"] == 2


def test_hyperband_pruner_from_the_config(tune_dict):
    tune_dict["pruner"] = {"kind": "hyperband", "min_resource": 1}
    study = open_study(tune_dict_config(tune_dict))
    assert isinstance(study.pruner, optuna.pruners.HyperbandPruner)


def tune_dict_config(data):
    return tune_config_from_dict(data)


def test_resume_after_an_interruption_continues_the_same_study(tune_dict):
    config = tune_dict_config({**tune_dict, "n_trials": 4})
    calls = []

    def objective(trial, values):
        calls.append(trial.number)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return values["train.lr"]

    study = open_study(config)
    with pytest.raises(KeyboardInterrupt):
        run_trials(study, config.search_space, objective, config.n_trials)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE", "FAIL"]

    again = open_study(config)  # what a second `caloforge tune` does
    assert again.study_name == study.study_name
    assert len(again.trials) == 3
    assert run_trials(again, config.search_space, objective, config.n_trials) == 4
    assert [t.state.name for t in again.trials] == ["COMPLETE", "COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]
    assert calls == [0, 1, 2, 3, 4]


def test_a_dead_processs_running_trial_is_failed_and_not_counted(tune_dict):
    config = tune_dict_config(tune_dict)
    study = open_study(config, grace_s=1)
    with pytest.warns(UserWarning, match="Heartbeat"):
        trial = study.ask()  # a process that then died: RUNNING with a heartbeat that stops
    study._storage.record_heartbeat(trial._trial_id)
    time.sleep(2.5)  # the storage keeps whole seconds: 2.5 s is a heartbeat at least 2 s old, beyond the 1 s grace
    again = open_study(config, grace_s=1)
    assert again.trials[0].state.name == "FAIL"
    assert finished_trials(again) == []


def test_another_config_on_the_same_study_needs_force(tune_dict):
    open_study(tune_dict_config(tune_dict))
    changed = {**tune_dict, "search_space": {"train.lr": {"low": 1e-3, "high": 1e-1, "log": True}}}
    with pytest.raises(StudyMismatchError, match=r"another tune config \(differs in \['search_space'\]\).*--force"):
        open_study(tune_dict_config(changed))
    assert open_study(tune_dict_config(changed), force=True).trials == []
    open_study(tune_dict_config({**changed, "n_trials": 9}))  # more trials: the same study
