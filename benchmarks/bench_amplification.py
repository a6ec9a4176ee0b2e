"""Statistical amplification of small models vs training-set size, and of the shipped models.

Usage (from the repository root)::

    # the built-in simulator as "Geant4": unlimited truth
    .venv/bin/python benchmarks/bench_amplification.py sim --truth sim100k.h5 --out amp-sim \
        [--pool pool20k.h5] [--train-sizes 1000,3000,10000] [--config configs/vae-calochallenge-2.yaml] \
        [--steps 600] [--generate 30000]
    # the shipped models against the Geant4 file (showers 0-9,499 only)
    .venv/bin/python benchmarks/bench_amplification.py zoo --geant4 geant4_electrons_siw_1-100GeV.h5 \
        --out amp-zoo [--generated fm1=fm1.h5 ...] [--models fm-siw-electrons-1step,vae-siw-electrons]

``sim``: the truth reference is ``--truth`` (simulate one with ``caloforge simulate --geometry calochallenge-2
-n 100000``); ``--pool`` (simulated when absent, another seed) gives the training showers (its first n) and the
Geant4 curve. For every training size n, one model is trained for ``--steps`` optimizer steps on one CPU
thread, generates ``--generate`` showers, and is measured beside two controls: the training set itself
(a Geant4 sample of size n: amplification ≈ 1) and ``--generate`` fresh simulator showers (a perfect
generator: amplification ≈ M/n). ``zoo``: the reference is showers 8,500–9,499 of the Geant4 file (the
development split, never trained on), the Geant4 curve is drawn from showers 0–8,499 (the training
showers), n = 8,075; showers from 9,500 on are never read. Prints the tables; writes every measurement
(``amplification.json``/``.png`` per run) and ``summary.json`` / ``amplification-vs-n.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from caloforge.cli.amplification import format_table
from caloforge.evaluation.amplification import AmplificationConfig, AmplificationResult
from caloforge.evaluation.amplification_files import ShowerSource, amplification_from_files, write_amplification
from caloforge.evaluation.plots.canvas import COLOURS, figure, save_figure

__all__ = ["main"]

ZOO_TRAIN_SIZE = 8_075


def _caloforge(*args: str) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "caloforge.cli.main", "-q", *args], check=True, env=env)


def _measure(truth: ShowerSource, pool: ShowerSource, generated: dict[str, ShowerSource], n: int,
             out: Path, args: argparse.Namespace) -> AmplificationResult:
    config = AmplificationConfig(n_bins=args.bins, repeats=args.repeats, bootstrap=args.bootstrap, seed=args.seed)
    result = amplification_from_files(truth, generated, n, config, pool=pool)
    write_amplification(result, out, force=True)
    sys.stdout.write(format_table(result) + "\n\n")
    return result


def _summary_row(result: AmplificationResult) -> dict[str, dict[str, list[float | bool]]]:
    return {label: {name: [o.amplification, o.interval[0], o.interval[1], o.resolved]
                    for name, o in s.observables.items()} for label, s in result.samples.items()}


def _sim(args: argparse.Namespace, out: Path) -> dict[str, object]:
    pool_path = Path(args.pool) if args.pool else out / "pool.h5"
    if not pool_path.exists():
        _caloforge("simulate", "--geometry", "calochallenge-2", "-n", str(args.pool_size), "--seed", "23",
                   "-o", str(pool_path), "--no-progress")
    perfect = out / "simulator.h5"
    if not perfect.exists():
        _caloforge("simulate", "--geometry", "calochallenge-2", "-n", str(args.generate), "--seed", "31",
                   "-o", str(perfect), "--no-progress")
    truth, pool = ShowerSource(Path(args.truth), 0, args.truth_stop), ShowerSource(pool_path)
    rows: dict[str, object] = {}
    for n in (int(s) for s in args.train_sizes.split(",")):
        run, gen = out / f"run-n{n}", out / f"model-n{n}.h5"
        if not (run / "result.json").exists():  # a finished run is reused
            _caloforge("train", args.config, "--data", str(pool_path), "--set", f"data.stop={n}", "--max-steps",
                       str(args.steps), "--device", "cpu", "--seed", str(args.seed), "--out", str(run), "--force",
                       "--no-progress")
        wall_s = json.loads((run / "result.json").read_text())["seconds"]
        logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
        cpu_s = max((row.get("cpu_s", 0.0) for row in logged), default=0.0)
        if not gen.exists():
            _caloforge("generate", "--checkpoint", str(run / "checkpoints" / "last.pt"), "--energies",
                       "log-uniform:1:100", "--n", str(args.generate), "--seed", "1", "--batch-size", "1000",
                       "-o", str(gen), "--force", "--no-progress")
        generated = {"model": ShowerSource(gen), "simulator": ShowerSource(perfect),
                     "train-set": ShowerSource(pool_path, 0, n)}
        result = _measure(truth, pool, generated, n, out / f"n{n}", args)
        rows[str(n)] = {"train_cpu_s": round(cpu_s, 1), "train_wall_s": round(wall_s, 1), "steps": args.steps, **_summary_row(result)}
        if not args.keep:
            gen.unlink()
    return rows


def _zoo(args: argparse.Namespace, out: Path) -> dict[str, object]:
    generated = {}
    for item in args.generated or []:
        label, _, path = item.partition("=")
        generated[label] = ShowerSource(Path(path))
    for name in [m for m in args.models.split(",") if m and m not in generated]:
        path = out / f"{name}.h5"
        if not path.exists():
            _caloforge("generate", "--pretrained", name, "--energies", "log-uniform:1:100", "--n",
                       str(args.generate), "--seed", "1", "--batch-size", "1000", "-o", str(path), "--no-progress")
        generated[name] = ShowerSource(path)
    geant4 = Path(args.geant4)
    generated["geant4-1000"] = ShowerSource(geant4, 0, 1000)  # control: a Geant4 sample of 1,000 showers
    result = _measure(ShowerSource(geant4, 8_500, 9_500), ShowerSource(geant4, 0, 8_500), generated,
                      ZOO_TRAIN_SIZE, out / "zoo", args)
    return {str(ZOO_TRAIN_SIZE): _summary_row(result)}


def _plot(rows: dict[str, object], out: Path) -> None:
    """Amplification vs training size, one panel per sample kind, one line per observable."""
    sizes = sorted(int(n) for n in rows)
    if len(sizes) < 2:
        return
    first = rows[str(sizes[0])]
    assert isinstance(first, dict)
    labels = [k for k in first if isinstance(first[k], dict)]
    fig = figure(3.4 * len(labels), 3.0, constrained=True)
    axes = fig.subplots(1, len(labels), squeeze=False)[0]
    for ax, label in zip(axes, labels, strict=True):
        for i, name in enumerate(first[label]):
            vals = [rows[str(n)][label][name] for n in sizes]  # type: ignore[index]
            centre = [v[0] if v[3] else v[1] for v in vals]
            lo = [c - v[1] for c, v in zip(centre, vals, strict=True)]
            hi = [(v[2] - c) if v[3] and v[2] != float("inf") else 0 for c, v in zip(centre, vals, strict=True)]
            ax.errorbar(sizes, centre, yerr=[lo, hi], fmt="o-", ms=3, lw=1, capsize=2,
                        color=COLOURS[i % len(COLOURS)] if i < len(COLOURS) else "k", label=name)
        ax.axhline(1.0, color="k", ls="--", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("training showers n", fontsize=8)
        ax.set_ylabel("amplification m*/n", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=6)
    save_figure(fig, out / "amplification-vs-n", formats=("png",), dpi=80)


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark; returns 0."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=("sim", "zoo"))
    p.add_argument("--out", required=True)
    p.add_argument("--truth", help="sim: truth reference file (simulator showers)")
    p.add_argument("--truth-stop", type=int, help="sim: use the first showers of --truth only")
    p.add_argument("--pool", help="sim: training + Geant4-curve file (default: simulate --pool-size)")
    p.add_argument("--pool-size", type=int, default=20_000)
    p.add_argument("--train-sizes", default="1000,3000,10000")
    p.add_argument("--config", default="configs/vae-calochallenge-2.yaml")
    p.add_argument("--steps", type=int, default=600, help="optimizer steps per training")
    p.add_argument("--generate", type=int, default=20_000, help="generated showers per model")
    p.add_argument("--geant4", help="zoo: the Geant4 file (showers 0-9,499 are read)")
    p.add_argument("--models", default="fm-siw-electrons-1step,vae-siw-electrons")
    p.add_argument("--generated", action="append", metavar="NAME=PATH", help="zoo: already generated files")
    p.add_argument("--bins", type=int, default=10)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--bootstrap", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", action="store_true", help="keep the generated files")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if (args.mode == "sim" and not args.truth) or (args.mode == "zoo" and not args.geant4):
        p.error("sim needs --truth, zoo needs --geant4")
    rows = _sim(args, out) if args.mode == "sim" else _zoo(args, out)
    (out / "summary.json").write_text(json.dumps(rows, indent=2, default=str) + "\n")
    _plot(rows, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
