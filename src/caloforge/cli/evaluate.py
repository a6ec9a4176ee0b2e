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
    p.add_argument("--formats", default="png,pdf", help="figure formats (comma-separated)")
    p.add_argument("--on-invalid", choices=("flag", "error"), default="flag",
                   help="generated showers with NaN/inf: drop and flag them, or stop with an error")
    p.add_argument("--chunk-size", type=int, default=5_000, help="showers read per chunk")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--force", action="store_true", help="write into an existing non-empty --out folder")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    p.set_defaults(func=run)


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
    if result.repeats > 1:
        return f"AUC {result.auc:.3f} ± {result.auc_std:.3f} JSD {result.jsd:.3f} ± {result.jsd_std:.3f}"
    return f"AUC {result.auc:.3f} JSD {result.jsd:.3f}"


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

    config = EvaluationConfig(
        geometry=args.geometry,
        threshold=args.threshold,
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
        progress=args.progress,
    )
    report = evaluate(args.reference, parse_generated(args.generated), args.out, config, force=args.force,
                      ensembles=parse_ensembles(args.ensemble))
    lines = [f"reference {report.reference.path} ({report.reference.n_events} showers)"]
    for label, g in report.generated.items():
        s = g.summary
        cls = ", ".join(f"{k} {_auc_jsd(r)}" for k in g.classifier if (r := g.classifier_result(k)) is not None)
        dist = f", FPD {g.fpd.value:.3g}, KPD {g.kpd.value:.3g}" if g.fpd is not None and g.kpd is not None else ""
        err = f" ± {s.separation_power_mean_err:.2g}" if s.bootstrap_replicates else ""
        lines.append(f"{label}: mean separation power {s.separation_power_mean:.4f}{err}, "
                     f"median chi2/NDF {s.chi2_ndf_median:.3g}{dist}" + (f"; {cls}" if cls else ""))
        if g.weighted is not None:  # a reweighted file: the same numbers with its weights
            w = g.weighted
            wcls = ", ".join(f"{k} AUC {r.auc:.3f}" for k in w.classifier if (r := w.classifier_result(k)) is not None)
            lines.append(f"{label} weighted: mean separation power {w.summary.separation_power_mean:.4f}, "
                         f"median chi2/NDF {w.summary.chi2_ndf_median:.3g}, effective sample size "
                         f"{w.weights.ess:.0f} of {w.weights.n}" + (f"; {wcls}" if wcls else ""))
        if g.diagnosis is not None:
            lines.append(f"{label}: gives it away: {_giveaways(g.diagnosis)}")
    for name, ensemble in report.ensembles.items():
        shown = [(m, ensemble.metrics[m]) for m in ("separation_power_mean", "chi2_ndf_median", "fpd", "auc_high")
                 if m in ensemble.metrics]
        lines.append(f"ensemble {name} ({len(ensemble.members)} members): "
                     + ", ".join(f"{m} {s.mean:.4g} ± {s.std:.2g}" for m, s in shown))
    lines += [f"warning: {f}" for f in report.flags]
    lines.append(f"written: {args.out}/metrics.json, {args.out}/report.html")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
