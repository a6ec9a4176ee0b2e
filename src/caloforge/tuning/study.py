"""The Optuna study behind ``caloforge tune``: storage, resume, the trial loop and its stopping rule.

:func:`open_study` creates or continues the study in its storage (SQLite in ``OUT/study.db`` by
default) with a seeded TPE sampler and the configured pruner. The study remembers the config it was
started with; continuing it with a different one is refused unless ``force`` (which starts the study
afresh). Trials run with a heartbeat, so that a trial whose process died (still ``RUNNING`` in the
storage) is marked failed once its heartbeat is stale; an interrupted trial of this process is marked
failed at once. :func:`run_trials` runs trials until the study holds ``n_trials`` finished (complete or
pruned) trials, counting those of earlier sessions and of other processes on the same storage.

Example:
    >>> import optuna
    >>> from caloforge.tuning.space import parse_space
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> space = parse_space({"x": {"low": -3.0, "high": 3.0}})
    >>> study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    >>> run_trials(study, space, lambda trial, values: (values["x"] - 1.0) ** 2, n_trials=15)
    15
    >>> abs(study.best_params["x"] - 1.0) < 0.5
    True
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caloforge.config import ConfigError
from caloforge.tuning.space import Param, suggest

if TYPE_CHECKING:
    import optuna

    from caloforge.tuning.config import TuneConfig

__all__ = ["FINISHED", "StudyMismatchError", "finished_trials", "open_study", "run_trials"]

logger = logging.getLogger(__name__)

#: The study's user attribute holding the config it was started with.
_ATTR = "caloforge_tune"

#: Trial states that count toward ``n_trials``.
FINISHED = ("COMPLETE", "PRUNED")

#: Seconds between heartbeats of a running trial, and without one before it counts as dead.
HEARTBEAT_S, GRACE_S = 10, 60

Objective = Callable[["optuna.Trial", dict[str, Any]], float]


class StudyMismatchError(ConfigError):
    """The storage holds a study of this name that was started with another config."""


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def _pruner(config: TuneConfig) -> optuna.pruners.BasePruner:
    import optuna

    p = config.pruner
    if p.kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=p.n_startup_trials, n_warmup_steps=p.n_warmup_steps)
    if p.kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=p.min_resource, reduction_factor=p.reduction_factor)
    return optuna.pruners.NopPruner()


def _storage(url: str, grace_s: int) -> optuna.storages.BaseStorage:
    import optuna

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # Optuna marks heartbeats experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(url, heartbeat_interval=min(HEARTBEAT_S, max(grace_s // 2, 1)),
                                          grace_period=grace_s)


def _existing_outputs(out: Path) -> list[str]:
    names = ["best.yaml", "study.json", "report.html"]
    return [n for n in names if (out / n).exists()] + sorted(p.name for p in out.glob("trial-*"))


def open_study(config: TuneConfig, *, force: bool = False, worker: int = 0, grace_s: int = GRACE_S) -> optuna.Study:
    """Creates the study, or continues the one in the storage when it was started with the same config.

    Arguments:
        config: The tune config.
        force: Start afresh (the study of this name is deleted) when the stored one has another
            config, or when the output directory holds the files of another study.
        worker: Index of this process among several sharing the storage; it shifts the sampler seed
            so that processes started together do not draw the same points.
        grace_s: Seconds without a heartbeat after which a running trial counts as dead.

    Raises:
        StudyMismatchError: The stored study (or ``OUT``) belongs to another config and ``force`` is not set.
    """
    import optuna

    storage = _storage(config.storage_url, grace_s)
    names = {s.study_name: s for s in optuna.get_all_study_summaries(storage)}
    wanted = json.loads(json.dumps(config.fingerprint()))
    out = Path(config.out)
    if config.study_name in names:
        stored = names[config.study_name].user_attrs.get(_ATTR)
        if stored is not None and stored != wanted:
            if not force:
                msg = (f"{config.storage_url}: study {config.study_name!r} was started with another tune config "
                       f"(differs in {_differences(stored, wanted)}); pass --force to start it afresh, or give "
                       "another out / study_name")
                raise StudyMismatchError(msg)
            logger.warning("deleting study %r with another config (force)", config.study_name)
            optuna.delete_study(study_name=config.study_name, storage=storage)
    elif _existing_outputs(out) and not force:
        msg = (f"{out} already holds the outputs of another study ({', '.join(_existing_outputs(out)[:3])}) but "
               f"{config.storage_url} has no study {config.study_name!r}; pass --force to replace them, or give another out")
        raise StudyMismatchError(msg)
    study = optuna.create_study(
        storage=storage, study_name=config.study_name, direction=config.direction, load_if_exists=True,
        pruner=_pruner(config),
    )
    study.set_user_attr(_ATTR, wanted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    n_before = len(study.trials)
    seed = config.seed + n_before + 7919 * worker  # a resumed session or another worker draws new points
    study.sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=config.n_startup_trials)
    logger.info("study %r in %s: %d earlier trials, %d finished", config.study_name, config.storage_url, n_before,
                len(finished_trials(study)))
    return study


def finished_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The complete and pruned trials, the ones that count toward ``n_trials``."""
    return [t for t in study.get_trials(deepcopy=False) if t.state.name in FINISHED]


def _running(study: optuna.Study) -> int:
    return sum(t.state.name == "RUNNING" for t in study.get_trials(deepcopy=False))


def run_trials(
    study: optuna.Study,
    space: Sequence[Param],
    objective: Objective,
    n_trials: int,
    *,
    catch: tuple[type[Exception], ...] = (FloatingPointError,),
    after_trial: Callable[[optuna.Study, optuna.trial.FrozenTrial], None] | None = None,
) -> int:
    """Runs trials until the study holds ``n_trials`` finished ones (earlier sessions and other processes count).

    Arguments:
        study: The study.
        space: The search space; each trial draws a point with :func:`~caloforge.tuning.space.suggest`.
        objective: ``(trial, values) -> score``; it may raise ``optuna.TrialPruned``.
        n_trials: Finished trials wanted in the study in total.
        catch: Exceptions that fail a trial without ending the study (a diverged training).
        after_trial: Called after every trial (writing the outputs).

    Returns:
        The number of finished trials in the study at the end.

    Raises:
        RuntimeError: More trials failed in this session than ``n_trials`` (a broken objective).
    """
    failures = 0
    while len(finished_trials(study)) + _running(study) < n_trials:
        before = len(study.trials)
        study.optimize(lambda trial: objective(trial, suggest(trial, space)), n_trials=1, catch=catch,
                       callbacks=[after_trial] if after_trial is not None else None)
        last = study.trials[before:] if len(study.trials) > before else []
        if any(t.state.name == "FAIL" for t in last):
            failures += 1
            logger.warning("trial %d failed: %s", last[-1].number, last[-1].system_attrs.get("fail_reason", ""))
            if failures > n_trials:
                msg = f"{failures} trials failed in this session; see the log of the last one"
                raise RuntimeError(msg)
    return len(finished_trials(study))
