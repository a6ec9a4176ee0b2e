"""``caloforge evaluate``: compare generated shower files with a reference → metrics.json, plots, report.html."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from caloforge.evaluation import ClassifierResult, Diagnosis

__all__ = ["parse_ensembles", "parse_generated", "register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``evaluate`` subcommand."""
    p = subparsers.add_parser(
        "evaluate",
        help="validate generated showers against a reference (CaloChallenge metrics, plots, HTML report)",
        description="Computes the CaloChallenge high-level features, histogram separation powers and chi2/NDF, "
        "FPD/KPD and classifier AUC/JSD of one or more generated files against a reference file, and writes "
        "metrics.json, plots and a self-contained report.html into --out.",
    )
    p.add_argument("--reference", required=True, help="reference (Geant4) CaloChallenge HDF5 file")
    p.add_argument("--generated", required=True, action="append", metavar="[NAME=]PATH",
                   help="generated HDF5 file; repeat to compare several models (optional NAME= label)")
    p.add_argument("--ensemble", action="append", default=[], metavar="NAME=LABEL,LABEL,...",
                   help="an ensemble of generated samples (seeded trainings of one model, caloforge train --seeds): "
                   "report mean ± std of every metric over these --generated labels (repeatable)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--geometry", help="geometry name (default: stored in the files or guessed)")
    p.add_argument("--threshold", type=float, help="voxel threshold in MeV (default: the dataset's CaloChallenge value)")
    p.add_argument("--cell-threshold", type=float, metavar="MEV",
                   help="cell threshold of the hit-level observables in MeV (default: the geometry's, else half a "
                   "MIP where the geometry or the files give one, else the voxel threshold)")
    p.add_argument("--classifier", choices=("fast", "official", "none"), default="fast",
                   help="classifier recipe: fast CPU default, the official CaloChallenge one, or none")
    p.add_argument("--classifier-inputs", default="low,low-normed,high",
                   help="comma-separated classifier tests among low, low-normed, high")
    p.add_argument("--classifier-max-events", type=int, help="showers per sample for the classifier at most")
    p.add_argument("--classifier-epochs", type=int, help="override the recipe's number of epochs")
    p.add_argument("--classifier-max-mib", type=int, default=256, metavar="MIB",
                   help="voxels kept per sample for the low-level classifier tests, MiB at most (default 256; "
                   "caps the showers used on large geometries, the number kept is logged and in metrics.json)")
    p.add_argument("--classifier-repeats", type=int, default=1, metavar="K",
                   help="repeat the classifier test on K re-drawn splits and report mean ± std (default 1)")
    p.add_argument("--distances", choices=("fast", "official", "none"), default="fast",
                   help="FPD/KPD batch settings (official: the CaloChallenge/jetnet call)")
    p.add_argument("--bootstrap", type=int, default=100, metavar="N",
                   help="bootstrap resamplings of both samples for the errors of separation powers, chi2/NDF and "
                   "response (default 100, about a second on 2k vs 2k dataset-2 showers; 0: no errors)")
    p.add_argument("--no-baseline", action="store_true", help="skip the reference-vs-reference baseline")
    p.add_argument("--no-plots", action="store_true",
                   help="write metrics.json and report.html only (the figures need matplotlib, the plot extra: "
                   "without it they are skipped with a warning)")
    p.add_argument(
        "--formats", default="png", help="figure formats, comma-separated (default png; add pdf for papers: png,pdf)"
    )
    p.add_argument("--on-invalid", choices=("flag", "error"), default="flag",
                   help="generated showers with NaN/inf: drop and flag them, or stop with an error")
    p.add_argument("--chunk-size", type=int, default=5_000, help="showers read per chunk")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--force", action="store_true", help="write into an existing non-empty --out folder")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="hide the progress bar (every phase: reading, histograms, bootstrap, classifier runs, "
                   "baseline, FPD/KPD, figures; shown by default on a terminal)")
    p.add_argument("--progress", dest="progress", action="store_true", help=argparse.SUPPRESS)  # the old opt-in
    p.set_defaults(func=run, progress=None)


def parse_generated(items: list[str]) -> dict[str, str]:
    """``["a=x.h5", "y.h5"]`` → ``{"a": "x.h5", "y": "y.h5"}``; labels default to the file stem.

    Raises:
        ValueError: On duplicate labels.
    """
    from pathlib import Path

    out: dict[str, str] = {}
    for item in items:
        label, sep, path = item.partition("=")
        if not sep or not label or Path(item).exists():
            label, path = Path(item).stem, item
        if label in out:
            msg = f"duplicate --generated label {label!r}; use NAME=PATH to tell them apart"
            raise ValueError(msg)
        out[label] = path
    return out


def parse_ensembles(items: list[str]) -> dict[str, list[str]]:
    """``["a=a0,a1,a2"]`` → ``{"a": ["a0", "a1", "a2"]}``.

    Raises:
        ValueError: An item without ``NAME=`` or a name given twice.
    """
    out: dict[str, list[str]] = {}
    for item in items:
        name, sep, members = item.partition("=")
        if not sep or not name.strip():
            msg = f"--ensemble {item!r}: give NAME=LABEL,LABEL,... (labels of --generated samples)"
            raise ValueError(msg)
        if name.strip() in out:
            msg = f"duplicate --ensemble name {name.strip()!r}"
            raise ValueError(msg)
        out[name.strip()] = [m.strip() for m in members.split(",") if m.strip()]
    return out


def _auc_jsd(result: ClassifierResult) -> str:
    """``AUC 0.932 JSD 0.410``, or ``AUC 0.932 ± 0.006 JSD 0.410 ± 0.012`` for a repeated test."""
    from caloforge.evaluation.plots import numbers

    if result.repeats > 1:
        return (f"AUC {numbers.auc(result.auc, result.auc_std)} "
                f"JSD {numbers.jsd(result.jsd, result.jsd_std)}")
    return f"AUC {numbers.auc(result.auc)} JSD {numbers.jsd(result.jsd)}"


def _giveaways(diagnosis: Diagnosis, k: int = 3) -> str:
    """``sparsity (separation 0.412, worst sparsity_12, AUC drop 0.118); ... | cls-high AUC drop: ...``.

    The top ``k`` families by separation power, then the top ``k`` by classifier AUC drop (if it ran).
    """
    parts = []
    for fam in diagnosis.top(k):
        drop = f", AUC drop {fam.auc_drop:.3f}" if fam.auc_drop is not None else ""
        parts.append(f"{fam.family} (separation {fam.separation_power:.3f}, worst {fam.worst.name}{drop})")
    text = "; ".join(parts) or "nothing (no comparable histogram)"
    if diagnosis.importance is not None:
        text += " | cls-high AUC drop: " + ", ".join(f"{n} {d:.3f}" for n, d in diagnosis.importance.ranking()[:k])
    return text


def run(args: argparse.Namespace) -> int:
    """Runs the evaluation; prints the summary; returns 0."""
    from caloforge.evaluation import EvaluationConfig, evaluate
    from caloforge.evaluation.plots import numbers
    from caloforge.evaluation.plots.verdict import best_label, verdict_from_sample, verdict_text

    config = EvaluationConfig(
        geometry=args.geometry,
        threshold=args.threshold,
        cell_threshold=args.cell_threshold,
        classifier=args.classifier,
        classifier_inputs=tuple(k.strip() for k in args.classifier_inputs.split(",") if k.strip()),
        classifier_max_events=args.classifier_max_events,
        classifier_memory_mb=args.classifier_max_mib,
        classifier_epochs=args.classifier_epochs,
        classifier_repeats=args.classifier_repeats,
        distances=args.distances,
        baseline=not args.no_baseline,
        bootstrap=args.bootstrap,
        seed=args.seed,
        chunk_size=args.chunk_size,
        invalid=args.on_invalid,
        plots=not args.no_plots,
        plot_formats=tuple(f.strip() for f in args.formats.split(",") if f.strip()),
        # On a terminal by default; not into logs or pipes, where a bar is noise around the result.
        progress=sys.stderr.isatty() if args.progress is None else args.progress,
    )
    report = evaluate(args.reference, parse_generated(args.generated), args.out, config, force=args.force,
                      ensembles=parse_ensembles(args.ensemble))
    lines = [f"reference {report.reference.path} ({report.reference.n_events} showers)"]
    for label, g in report.generated.items():
        s = g.summary
        cls = ", ".join(f"{k} {_auc_jsd(r)}" for k in g.classifier if (r := g.classifier_result(k)) is not None)
        dist = (f", FPD×10³ {numbers.distance(g.fpd.value, g.fpd.error)}, KPD×10³ "
                f"{numbers.distance(g.kpd.value, g.kpd.error)}" if g.fpd is not None and g.kpd is not None else "")
        sep = numbers.pm(s.separation_power_mean, s.separation_power_mean_err)
        lines.append(f"{label}: mean separation power {sep}, "
                     f"median chi2/NDF {numbers.pm(s.chi2_ndf_median, s.chi2_ndf_median_err)}{dist}"
                     + (f"; {cls}" if cls else ""))
        if g.weighted is not None:  # a reweighted file: the same numbers with its weights
            w = g.weighted
            wcls = ", ".join(f"{k} AUC {numbers.auc(r.auc)}" for k in w.classifier if (r := w.classifier_result(k)) is not None)
            lines.append(f"{label} weighted: mean separation power {numbers.num(w.summary.separation_power_mean)}, "
                         f"median chi2/NDF {numbers.num(w.summary.chi2_ndf_median)}, effective sample size "
                         f"{w.weights.ess:.0f} of {w.weights.n}" + (f"; {wcls}" if wcls else ""))
        if g.diagnosis is not None:
            lines.append(f"{label}: gives it away: {_giveaways(g.diagnosis)}")
    for name, ensemble in report.ensembles.items():
        shown = [(m, ensemble.metrics[m]) for m in ("separation_power_mean", "chi2_ndf_median", "fpd", "auc_high")
                 if m in ensemble.metrics]
        lines.append(f"ensemble {name} ({len(ensemble.members)} members): "
                     + ", ".join(f"{m} {numbers.pm(s.mean, s.std)}" for m, s in shown))
    found = [verdict_from_sample(label, g) for label, g in report.generated.items()]
    best = best_label(found) if len(found) > 1 else None
    lines += [f"verdict {verdict_text(v, v.label == best)}" for v in found]
    timing = report.timing
    lines.append("time: " + ", ".join(f"{k} {numbers.duration(timing[k])}" for k in
                                      ("read_and_features", *(f"metrics_{x}" for x in report.generated), "baseline",
                                       "plots") if k in timing))
    lines += [f"warning: {f}" for f in report.flags]
    lines.append(f"written: {args.out}/metrics.json, {args.out}/report.html")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
