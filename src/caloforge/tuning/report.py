"""The outputs of a study: ``OUT/study.json``, ``OUT/best.yaml`` and ``OUT/report.html``.

``best.yaml`` is the best trial's full run config (base + budget + the trial's values) with
``out: OUT/best``, ready for ``caloforge train --config OUT/best.yaml``. ``report.html`` shows the
optimisation history and the parameter importances drawn by ``optuna.visualization.matplotlib``
(``history.png``, ``importances.png``; skipped with a warning without matplotlib) and a table of trials.
Every file is written atomically.
"""

from __future__ import annotations

import html
import json
import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from caloforge.atomic import atomic_write_bytes, atomic_write_text
from caloforge.tuning.space import from_labels

if TYPE_CHECKING:
    import optuna

    from caloforge.tuning.config import TuneConfig
    from caloforge.tuning.tuner import TrialScore

__all__ = ["best_run_config", "study_summary", "write_outputs", "write_report_html"]

logger = logging.getLogger(__name__)


def _complete(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]


def best_run_config(study: optuna.Study, config: TuneConfig) -> dict[str, Any] | None:
    """The best trial's full run config as plain data (``out``: ``OUT/best``); ``None`` before any trial completed."""
    if not _complete(study):
        return None
    values = from_labels(config.search_space, study.best_trial.params)
    return config.run_config(values, Path(config.out) / "best").to_dict()


def study_summary(study: optuna.Study, config: TuneConfig, baseline: TrialScore | None = None) -> dict[str, Any]:
    """The study as JSON-able data: settings, every trial (state, score, values, run numbers), the best one."""
    trials = []
    for t in study.get_trials(deepcopy=False):
        trials.append({
            "number": t.number, "state": t.state.name.lower(),
            "value": t.value if t.state.name == "COMPLETE" else None,  # a pruned trial's is its last intermediate
            "params": from_labels(config.search_space, t.params), "intermediate": dict(t.intermediate_values),
            "user_attrs": dict(t.user_attrs),
            "duration_s": None if t.duration is None else round(t.duration.total_seconds(), 1),
            "run_directory": str(Path(config.out) / f"trial-{t.number}"),
        })
    complete = _complete(study)
    best = study.best_trial if complete else None
    return {
        "study_name": config.study_name, "storage": config.storage_url, "direction": config.direction,
        "objective": config.objective.metric, "n_trials": config.n_trials,
        "n_finished": sum(t["state"] in ("complete", "pruned") for t in trials),
        "n_pruned": sum(t["state"] == "pruned" for t in trials),
        "best": None if best is None else {"number": best.number, "value": best.value,
                                           "params": from_labels(config.search_space, best.params)},
        "baseline": None if baseline is None else {"value": baseline.score, "details": baseline.details},
        "trials": trials,
    }


def write_outputs(study: optuna.Study, config: TuneConfig, baseline: TrialScore | None = None) -> None:
    """Rewrites ``OUT/study.json`` and, once a trial completed, ``OUT/best.yaml`` (atomically)."""
    out = Path(config.out)
    summary = study_summary(study, config, baseline)
    atomic_write_text(out / "study.json", json.dumps(summary, indent=2, default=str) + "\n", overwrite=True)
    best = best_run_config(study, config)
    if best is not None:
        head = (f"# Best trial {summary['best']['number']} of study {config.study_name!r} "
                f"({config.objective.metric} {summary['best']['value']:.6g}).\n"
                f"# Train it: caloforge train --config {out / 'best.yaml'}\n")
        atomic_write_text(out / "best.yaml", head + yaml.safe_dump(best, sort_keys=False), overwrite=True)


def _figures(study: optuna.Study, out: Path) -> list[str]:
    """Draws the history and importances with Optuna's matplotlib backend; returns the PNG names written."""
    try:
        import matplotlib as mpl

        mpl.use("Agg")
        import matplotlib.pyplot as plt
        from optuna.visualization import matplotlib as ovm
    except ImportError as err:
        logger.warning("report.html without figures: %s (pip install 'caloforge[plot]')", err)
        return []
    import io

    names = []
    plots: dict[str, Callable[[optuna.Study], Any]] = {
        "history.png": ovm.plot_optimization_history, "importances.png": ovm.plot_param_importances,
    }
    for name, plot in plots.items():
        if name == "importances.png" and len(_complete(study)) < 2:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Optuna marks its matplotlib backend experimental
                ax = plot(study)
            figure = ax.figure
            figure.set_size_inches(7, 4)
            figure.tight_layout()
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=100)
            plt.close(figure)
        except (ValueError, RuntimeError) as err:  # e.g. importances of a parameter that never varied
            logger.warning("report.html: no %s (%s)", name, err)
            continue
        atomic_write_bytes(out / name, buffer.getvalue(), overwrite=True)
        names.append(name)
    return names


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.5g}"
    return html.escape("" if value is None else str(value))


def write_report_html(study: optuna.Study, config: TuneConfig, baseline: TrialScore | None = None) -> Path:
    """Writes ``OUT/report.html`` (and its PNG figures); returns its path."""
    out = Path(config.out)
    summary = study_summary(study, config, baseline)
    figures = _figures(study, out)
    keys = [p.key for p in config.search_space]
    head = "".join(f"<th>{html.escape(k)}</th>" for k in ["trial", "state", config.objective.metric, *keys,
                                                            "epochs", "steps", "seconds"])
    rows = []
    for t in summary["trials"]:
        attrs = t["user_attrs"]
        cells = [t["number"], t["state"], t["value"], *(t["params"].get(k) for k in keys),
                 len(t["intermediate"]) or attrs.get("epochs"), attrs.get("steps"), attrs.get("seconds")]
        style = ' style="font-weight:bold"' if summary["best"] and t["number"] == summary["best"]["number"] else ""
        rows.append(f"<tr{style}>" + "".join(f"<td>{_cell(c)}</td>" for c in cells) + "</tr>")
    best = summary["best"]
    lines = [
        "<!DOCTYPE html>", "<html><head><meta charset='utf-8'>",
        f"<title>caloforge tune: {html.escape(config.study_name)}</title>",
        ("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style></head><body>"),
        f"<h1>Study {html.escape(config.study_name)}</h1>",
        (f"<p>{summary['n_finished']} of {config.n_trials} trials finished ({summary['n_pruned']} pruned); "
        f"objective {html.escape(config.objective.metric)} ({config.direction}).</p>"),
    ]
    if best is not None:
        lines.append(f"<p>Best: trial {best['number']}, {_cell(best['value'])}; its run config is "
                     "<code>best.yaml</code>.</p>")
    if baseline is not None:
        lines.append(f"<p>Base config, same budget: {_cell(baseline.score)}.</p>")
    lines += [f"<p><img src='{name}' alt='{name}'></p>" for name in figures]
    lines += ["<table>", f"<tr>{head}</tr>", *rows, "</table>", "</body></html>"]
    path = out / "report.html"
    atomic_write_text(path, "\n".join(lines) + "\n", overwrite=True)
    return path
