"""``caloforge bench``: generation time per shower against batch size, per backend, as a table and a plot."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from caloforge.cli.zoo import add_pretrained_option

__all__ = ["register", "run"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``bench`` subcommand."""
    p = subparsers.add_parser(
        "bench",
        help="benchmark generation speed and memory (PyTorch, TorchScript, ONNX Runtime fp32/int8/fp16)",
        description="Time generation (ms/shower) against batch size for each backend, on the CPU with each thread "
        "count and on the GPU when present, with peak memory. Give a checkpoint (all backends; ONNX models are "
        "exported into --workdir) or ONNX files only (ONNX Runtime backends, no PyTorch needed).",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", type=Path, help="training checkpoint or saved model (.pt)")
    source.add_argument("--model", type=Path, nargs="+", metavar="MODEL.onnx",
                        help="exported ONNX model(s); precision read from each model card")
    add_pretrained_option(source)
    p.add_argument("--backends", nargs="+", help="pytorch torchscript torch-compile onnxruntime-fp32 "
                   "onnxruntime-int8 onnxruntime-fp16 (default: pytorch torchscript onnxruntime-fp32 onnxruntime-int8)")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 10, 100, 1000, 10_000],
                   help="default: 1 10 100 1000 10000")
    p.add_argument("--threads", nargs="+", default=["1", "all"], help="CPU thread counts; 'all' = every core "
                   "(default: 1 all)")
    p.add_argument("--cpu-only", action="store_true", help="skip the GPU even when one is present")
    p.add_argument("--geant4-ms", type=float, help="reference Geant4 time per shower in ms, shown as a row "
                   "(e.g. 130 for 1-100 GeV electrons in the Si-W calorimeter on a 2-core CPU)")
    p.add_argument("--min-seconds", type=float, default=0.5, help="minimum measured time per cell (default 0.5)")
    p.add_argument("--workdir", type=Path, help="where exported models go (default: models/ beside the table, "
                   "else a temporary directory)")
    p.add_argument("-o", "--output", type=Path, help="write the table as JSON (and Markdown beside it); default "
                   "RUN/bench/bench.json for a checkpoint RUN/checkpoints/*.pt")
    p.add_argument("--plot", type=Path, help="write the figure here (default: beside the table, .png, when "
                   "matplotlib is installed)")
    p.add_argument("--no-plot", action="store_true", help="no figure")
    p.add_argument("--force", action="store_true", help="overwrite existing --output/--plot files")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Benchmarks; prints the Markdown table; returns 0."""
    from caloforge.atomic import atomic_write_text, prepare_target
    from caloforge.bench.speed import DEFAULT_BACKENDS, BenchConfig
    from caloforge.bench.suite import benchmark

    _default_outputs(args)
    outputs = [] if args.output is None else [args.output, args.output.with_suffix(".md")]
    for target in [*outputs, *([] if args.plot is None else [args.plot])]:  # refused before benchmarking
        prepare_target(target, overwrite=args.force)
    threads = tuple(None if t == "all" else int(t) for t in args.threads)
    model, onnx_files = None, {}
    if args.pretrained is not None:
        from caloforge.models.pretrained import load_pretrained

        model = load_pretrained(args.pretrained)
        backends = tuple(args.backends or DEFAULT_BACKENDS)
    elif args.checkpoint is not None:
        from caloforge.models.serialization import load_model

        model = load_model(args.checkpoint)
        backends = tuple(args.backends or DEFAULT_BACKENDS)
    else:
        from caloforge.export.runtime import OnnxGenerator

        for path in args.model:
            onnx_files[f"onnxruntime-{OnnxGenerator(path, threads=1).card.precision}"] = path
        backends = tuple(args.backends or onnx_files)
    config = BenchConfig(
        batch_sizes=tuple(args.batch_sizes), threads=threads, backends=backends,
        devices=("cpu",) if args.cpu_only else ("cpu", "cuda"), min_seconds=args.min_seconds,
        geant4_ms=args.geant4_ms,
    )
    with _workdir(args) as workdir:
        table = benchmark(model, onnx_files=onnx_files, config=config, workdir=workdir,
                          progress=not args.no_progress)
    markdown = table.to_markdown()
    sys.stdout.write(markdown + "\n")
    if table.files:
        sys.stdout.write("model files: " + ", ".join(f"{k} {v / 1e3:.1f} kB" for k, v in table.files.items()) + "\n")
    if args.output is not None:
        atomic_write_text(args.output, json.dumps(table.to_dict(), indent=1), overwrite=args.force)
        atomic_write_text(args.output.with_suffix(".md"), markdown + "\n", overwrite=args.force)
        sys.stdout.write(f"table: {args.output} (+ .md)\n")
    if args.plot is not None:
        from caloforge.bench.plot import save_bench_plot

        save_bench_plot(table, args.plot)
        sys.stdout.write(f"plot: {args.plot}\n")
    return 0


def _default_outputs(args: argparse.Namespace) -> None:
    """``-o`` defaults to ``RUN/bench/bench.json`` for a run's checkpoint; the plot goes beside the table."""
    from importlib.util import find_spec

    if args.output is None and args.checkpoint is not None and args.checkpoint.parent.name == "checkpoints":
        args.output = args.checkpoint.parent.parent / "bench" / "bench.json"
    if args.no_plot:
        args.plot = None
    elif args.plot is None and args.output is not None:
        if find_spec("matplotlib") is not None:
            args.plot = args.output.with_suffix(".png")
        else:
            logger.warning("matplotlib is not installed: no plot (pip install 'caloforge[plot]')")


@contextmanager
def _workdir(args: argparse.Namespace) -> Iterator[Path]:
    """``--workdir``, else ``models/`` beside the table, else a temporary directory removed afterwards."""
    if args.workdir is not None:
        yield args.workdir
    elif args.output is not None:
        yield args.output.parent / "models"
    else:
        with tempfile.TemporaryDirectory(prefix="caloforge-bench-") as tmp:
            yield Path(tmp)
