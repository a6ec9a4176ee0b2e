"""Add a trained model to the pretrained zoo shipped in ``src/caloforge/models/pretrained/``.

Strips the checkpoint to its generating weights (EMA when present), hashes them, measures the
generation time per shower at batch 1,000 (PyTorch, CPU, one thread) unless ``--ms-per-shower`` is
given, takes the metrics from a ``caloforge evaluate`` report on a held-out split, writes the
manifest entry atomically, and drafts the model card when it does not exist yet. See
``docs/model-zoo.md`` for the whole procedure.

Usage:
    python tools/add_to_zoo.py runs/vae/checkpoints/last.pt --name vae-siw-electrons \\
        --particle electron --report eval/vae/metrics.json \\
        --eval-command "caloforge evaluate --reference heldout.h5 --generated vae.h5 --out eval/vae" \\
        --train-data "GFlash electrons, Si-W, 1-100 GeV log-uniform" --train-showers 100000 \\
        --cpu-hours 2.5 --train-command "caloforge train configs/vae_siw.yaml"
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main", "measure_ms_per_shower"]

REPO = Path(__file__).resolve().parents[1]


def measure_ms_per_shower(checkpoint: Path, sampler: str | None, min_seconds: float) -> tuple[float, str]:
    """Median ms/shower at batch 1,000 with the caloforge benchmark (PyTorch, CPU, 1 thread)."""
    from caloforge.bench.backends import torch_backend
    from caloforge.bench.speed import BenchConfig, run_backends
    from caloforge.models import load_model

    model = load_model(checkpoint)
    if sampler is not None:
        from caloforge.models.diffusion import with_sampler
        from caloforge.solvers import parse_sampler

        model = with_sampler(model, *parse_sampler(sampler))  # type: ignore[arg-type]
    config = BenchConfig(batch_sizes=(1000,), threads=(1,), backends=("pytorch",), devices=("cpu",),
                         min_seconds=min_seconds)
    row = run_backends([torch_backend("pytorch", model.eval())], config)[0]
    return row.ms_per_shower, "pytorch, cpu, 1 thread, batch 1000"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", type=Path, help="training checkpoint or saved model (.pt)")
    p.add_argument("--name", required=True, help="zoo name, e.g. vae-siw-electrons (lower case, digits, .-_)")
    p.add_argument("--particle", required=True, help="incident particle of the training data")
    p.add_argument("--report", required=True, type=Path, help="metrics.json of caloforge evaluate on a held-out split")
    p.add_argument("--label", help="generated-sample label in the report (default: the only one)")
    p.add_argument("--eval-command", required=True, help="the caloforge evaluate command that wrote --report")
    p.add_argument("--reference", help="describes the held-out split (default: file name and size from the report)")
    p.add_argument("--train-data", required=True, help="what the model was trained on")
    p.add_argument("--train-showers", required=True, type=int, help="number of training showers")
    p.add_argument("--train-steps", type=int, help="optimizer steps (default: read from a training checkpoint)")
    p.add_argument("--cpu-hours", required=True, type=float, help="training cost, CPU core hours")
    p.add_argument("--train-command", required=True, help="the command that reproduces the training")
    p.add_argument("--sampler", metavar="SOLVER:STEPS", help="default sampler of a flow-matching model")
    p.add_argument("--steps", type=int, help="network evaluations per shower (default: from the architecture)")
    p.add_argument("--family", help="model family (default: from the architecture)")
    p.add_argument("--energy-range", type=float, nargs=2, metavar=("LO", "HI"),
                   help="training energy range, GeV (default: the model's fitted range)")
    p.add_argument("--description", default="", help="one line for the zoo table")
    p.add_argument("--ms-per-shower", type=float, help="measured ms/shower at batch 1,000 (default: measure now)")
    p.add_argument("--speed-setup", default="", help="where --ms-per-shower was measured")
    p.add_argument("--min-seconds", type=float, default=2.0, help="timing duration when measuring (default 2)")
    p.add_argument("--card", help="model card path in the repository (default: docs/models/NAME.md)")
    p.add_argument("--zoo-dir", type=Path, help="zoo directory (default: $CALOFORGE_ZOO_DIR or the package data)")
    p.add_argument("--replace", action="store_true", help="replace an existing entry of the same name")
    return p


def main(argv: list[str] | None = None) -> int:
    """Adds the model; prints its manifest entry; returns 0 (2 on bad input)."""
    args = _parser().parse_args(argv)
    from caloforge.models.pretrained import add_to_zoo, metrics_from_report, render_card

    card = args.card or f"docs/models/{args.name}.md"
    try:
        metrics = metrics_from_report(args.report, command=args.eval_command, label=args.label,
                                      reference=args.reference)
        if args.ms_per_shower is None:
            ms, setup = measure_ms_per_shower(args.checkpoint, args.sampler, args.min_seconds)
        else:
            ms, setup = args.ms_per_shower, args.speed_setup
        training = {"data": args.train_data, "showers": args.train_showers, "steps": args.train_steps,
                    "cpu_hours": args.cpu_hours, "command": args.train_command}
        entry = add_to_zoo(
            args.checkpoint, args.name, particle=args.particle, training=training, metrics=metrics,
            ms_per_shower=ms, ms_per_shower_setup=setup, card=card, sampler=args.sampler, steps=args.steps,
            family=args.family, energy_range_gev=tuple(args.energy_range) if args.energy_range else None,
            description=args.description, zoo_dir=args.zoo_dir, replace=args.replace,
        )
    except (ValueError, KeyError, FileExistsError, FileNotFoundError) as err:
        sys.stderr.write(f"add_to_zoo: error: {err}\n")
        return 2
    card_path = REPO / card
    if not card_path.exists():
        card_path.parent.mkdir(parents=True, exist_ok=True)
        card_path.write_text(render_card(entry), encoding="utf-8")
        sys.stderr.write(f"drafted {card}: complete its Preprocessing and Limits sections\n")
    sys.stdout.write(json.dumps(entry.to_dict(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
