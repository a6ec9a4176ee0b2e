"""``caloforge tune``: one training run per trial (``OUT/trial-N/``), scored, pruned per epoch, written out.

Each trial trains the base run config with the trial's values and the per-trial budget through
:func:`caloforge.training.train_run`, with a :class:`~caloforge.tuning.pruning.PruningCallback` that reports
the validation loss (objective ``val_loss``) or the E_tot/E_inc separation power of a few hundred
generated showers (objective ``fidelity``) after every epoch. The training showers are loaded (or
simulated) once per process; the held-out showers of ``fidelity`` are simulated apart from them.
After every trial ``OUT/study.json`` and ``OUT/best.yaml`` are rewritten; ``OUT/report.html`` at the end.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caloforge.atomic import atomic_write_text
from caloforge.data import ShowerData
from caloforge.training import RunConfig, train_run
from caloforge.training.config import DataConfig, SimulateConfig
from caloforge.training.data import load_training_data
from caloforge.tuning.pruning import PruningCallback
from caloforge.tuning.score import fidelity_score, response_separation
from caloforge.tuning.study import finished_trials, open_study, run_trials

if TYPE_CHECKING:
    import optuna

    from caloforge.models import GenerativeModel
    from caloforge.training.trainer import Trainer
    from caloforge.tuning.config import TuneConfig

__all__ = ["TrialData", "TrialScore", "TuneResult", "score_config", "tune"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrialScore:
    """One trained and scored configuration.

    Attributes:
        score: The objective's value.
        details: Its parts and the run's numbers (steps, seconds, stop reason, val loss, SP, AUC).
    """

    score: float
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TuneResult:
    """What :func:`tune` did.

    Attributes:
        n_finished: Finished trials in the study (all sessions).
        best_number: The best trial's number (``None``: no trial completed).
        best_value: Its score.
        best_params: Its values, by config key.
        out: The output directory.
        baseline: The base config's own score (``--baseline``), else ``None``.
    """

    n_finished: int
    best_number: int | None
    best_value: float | None
    best_params: dict[str, Any]
    out: Path
    baseline: TrialScore | None = None


class TrialData:
    """The training and held-out showers of a study, loaded (or simulated) once per data config.

    Arguments:
        config: The tune config (its objective says where the held-out showers come from).
    """

    def __init__(self, config: TuneConfig) -> None:
        self.config = config
        self._cache: dict[str, ShowerData] = {}

    def load(self, data: DataConfig) -> ShowerData:
        """The showers of ``data``, from the cache after the first call."""
        key = json.dumps(dataclasses.asdict(data), sort_keys=True)
        if key not in self._cache:
            self._cache[key] = load_training_data(data)
        return self._cache[key]

    def holdout(self, train: DataConfig) -> ShowerData:
        """The held-out showers of the fidelity objective for training data ``train``."""
        objective = self.config.objective
        if objective.holdout is not None:
            return self.load(objective.holdout)
        sim = train.simulate or SimulateConfig()
        return self.load(dataclasses.replace(
            train, simulate=SimulateConfig(objective.n_holdout, sim.energy, objective.holdout_seed)))


def _generate_like(model: GenerativeModel, reference: ShowerData, device: Any, seed: int = 0) -> ShowerData:
    from caloforge.sampling import generate

    angles = reference.angles if model.n_conditions > 1 else None
    return generate(model, reference.energies, angles=angles, seed=seed, device=device)


def _fast_score(reference: ShowerData) -> Any:
    def score(trainer: Trainer) -> float:
        return response_separation(_generate_like(trainer.model, reference, trainer.device), reference)

    return score


def score_config(
    config: TuneConfig,
    run_config: RunConfig,
    data: TrialData,
    *,
    trial: optuna.Trial | None = None,
    force: bool = False,
) -> TrialScore:
    """Trains ``run_config`` (pruned through ``trial`` when given) and scores it by the config's objective.

    With ``objective.seeds`` it trains once per seed in ``OUT/seed-S`` and returns the mean score
    (``details["seed_scores"]``: each seed's); only the first seed's run reports to the pruner.

    Raises:
        optuna.TrialPruned: The pruner stopped the trial.
        FileExistsError: The run directory holds another run and ``force`` is not set.
    """
    seeds = config.objective.seeds
    if not seeds:
        return _score_run(config, run_config, data, trial=trial, force=force)
    scores = []
    for i, seed in enumerate(seeds):
        train = dataclasses.replace(run_config.train, seed=seed)
        one = dataclasses.replace(run_config, train=train, out=str(Path(run_config.out) / f"seed-{seed}"))
        scores.append(_score_run(config, one, data, trial=trial if i == 0 else None, force=force))
    details = {**scores[0].details, "seeds": list(seeds), "seed_scores": [s.score for s in scores]}
    return TrialScore(sum(s.score for s in scores) / len(scores), details)


def _score_run(
    config: TuneConfig, run_config: RunConfig, data: TrialData, *, trial: optuna.Trial | None, force: bool
) -> TrialScore:
    """One training run of :func:`score_config`."""
    objective = config.objective
    showers = data.load(run_config.data)
    holdout = data.holdout(run_config.data) if objective.metric == "fidelity" else None
    callbacks = []
    pruning = None
    if trial is not None:
        score = None if holdout is None else _fast_score(holdout.subset(slice(0, objective.prune_showers)))
        pruning = PruningCallback(trial, score=score)
        callbacks.append(pruning)
    result = train_run(run_config, data=showers, force=force, callbacks=callbacks)
    details: dict[str, Any] = {"steps": result.steps, "epochs": result.epochs, "seconds": round(result.seconds, 1),
                               "stop_reason": result.stop_reason, "val_loss": result.val_metrics.get("val/loss"),
                               "intermediate": [] if pruning is None else pruning.values}
    if pruning is not None and pruning.pruned_at is not None:
        import optuna

        assert trial is not None
        for key, value in details.items():
            trial.set_user_attr(key, value)
        raise optuna.TrialPruned
    if objective.metric == "val_loss":
        value = result.val_metrics.get("val/loss")
        if value is None:
            msg = f"{run_config.out}: the run has no validation loss (train.val_fraction is 0)"
            raise ValueError(msg)
        return TrialScore(float(value), details)
    from caloforge.models import load_model

    assert holdout is not None
    assert result.checkpoint is not None
    model = load_model(result.checkpoint)
    generated = _generate_like(model, holdout, run_config.train.device, seed=run_config.train.seed)
    fid = fidelity_score(generated, holdout, inputs=objective.classifier_inputs, seed=run_config.train.seed)
    details.update(response_sp=fid.response_sp, auc=fid.auc)
    return TrialScore(fid.score, details)


def _baseline(config: TuneConfig, data: TrialData, force: bool) -> TrialScore:
    """The base config's own score (same budget, same scoring), cached in ``OUT/baseline.json``."""
    out = Path(config.out)
    path = out / "baseline.json"
    fingerprint = json.loads(json.dumps(config.fingerprint()))
    if path.is_file() and not force:
        stored = json.loads(path.read_text())
        if stored.get("config") == fingerprint:
            logger.info("baseline: reusing %s", path)
            return TrialScore(float(stored["score"]), stored["details"])
    run_config = config.run_config({}, out / "baseline")
    result = score_config(config, run_config, data, force=force)
    text = json.dumps({"score": result.score, "details": result.details, "config": fingerprint}, indent=2) + "\n"
    atomic_write_text(path, text, overwrite=True)
    return result


def tune(
    config: TuneConfig,
    *,
    force: bool = False,
    baseline: bool = False,
    worker: int = 0,
    write_report: bool = True,
) -> TuneResult:
    """Runs (or continues) the study of ``config`` and writes ``OUT``.

    Arguments:
        config: The tune config.
        force: Start afresh over a study or outputs of another config (see
            :func:`~caloforge.tuning.study.open_study`) and replace runs in ``OUT/trial-N``.
        baseline: Also train and score the base config itself (``OUT/baseline/``, ``OUT/baseline.json``).
        worker: Index of this process among several on the same storage (shifts the sampler seed).
        write_report: Write ``OUT/report.html`` at the end (figures need matplotlib).

    Raises:
        caloforge.tuning.study.StudyMismatchError: The study or ``OUT`` belongs to another config.
    """
    import optuna

    from caloforge.tuning.report import write_outputs, write_report_html

    if not logging.getLogger("caloforge").isEnabledFor(logging.INFO):  # -q: Optuna's per-trial lines too
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = Path(config.out)
    study = open_study(config, force=force, worker=worker)
    out.mkdir(parents=True, exist_ok=True)
    data = TrialData(config)
    base = _baseline(config, data, force) if baseline else None

    def objective(trial: optuna.Trial, values: dict[str, Any]) -> float:
        run_config = config.run_config(values, out / f"trial-{trial.number}")
        trial.set_user_attr("overrides", config.trial_overrides(values))
        result = score_config(config, run_config, data, trial=trial, force=force)
        for key, value in result.details.items():
            trial.set_user_attr(key, value)
        return result.score

    def after_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        logger.info("trial %d %s: %s", trial.number, trial.state.name.lower(), trial.value)
        write_outputs(study, config, base)

    n = run_trials(study, config.search_space, objective, config.n_trials, after_trial=after_trial)
    write_outputs(study, config, base)
    if write_report:
        write_report_html(study, config, base)
    complete = [t for t in finished_trials(study) if t.state.name == "COMPLETE"]
    if not complete:
        return TuneResult(n, None, None, {}, out, base)
    best = study.best_trial
    from caloforge.tuning.space import from_labels

    return TuneResult(n, best.number, best.value, from_labels(config.search_space, best.params), out, base)
