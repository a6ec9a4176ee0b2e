"""Benchmark of ``caloforge.evaluation``: time of features + histograms and peak memory of streaming passes.

Usage::

    python benchmarks/bench_evaluate.py speed  --n 100000 --geometry calochallenge-2 [--dir DIR (default: the temp dir)/cf_bench]
    python benchmarks/bench_evaluate.py memory --sizes 5000,10000,20000 --geometry calochallenge-3

``speed`` writes two synthetic files (reference and "generated", sparse-ish gamma-distributed
showers), then times (1) one streaming pass over a file — features, average shower and voxel
spectrum — and (2) the whole ``run_evaluation`` (both files, every histogram comparison) without
classifier, FPD/KPD and plots. ``memory`` runs the full evaluation (same settings) in a fresh
process per size and reports the peak RSS, which must not grow with the number of showers beyond the
per-shower features (~3 kB per shower).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def write_synthetic(path: Path, geometry_name: str, n: int, seed: int, chunk: int = 1000) -> None:
    """Writes ``n`` synthetic showers (power-law radial profile, ~70 % zero voxels) to ``path``."""
    from caloforge.data import ShowerData, ShowerWriter
    from caloforge.geometry import get_geometry

    g = get_geometry(geometry_name)
    rng = np.random.default_rng(seed)
    depth = g.voxel_layer / max(g.n_layers - 1, 1)
    profile = np.exp(-g.r_centres / 6.0) * np.exp(-((depth - 0.3) ** 2) / 0.05)
    profile = (profile / profile.sum()).astype(np.float32)
    with ShowerWriter(path, g, overwrite=True) as w:
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            e = np.exp(rng.uniform(np.log(1e3), np.log(1e5), m)).astype(np.float32)
            showers = e[:, None] * profile[None, :] * rng.gamma(2.0, 0.5, (m, g.n_voxels)).astype(np.float32)
            showers[rng.random(showers.shape, dtype=np.float32) < 0.7] = 0.0
            w.write(ShowerData(e, showers, g))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process: robust against other load on a shared machine."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def speed(args: argparse.Namespace) -> dict[str, float]:
    """Times the streaming pass and the histogram evaluation of two ``--n``-shower files."""
    from caloforge.data import ShowerFile
    from caloforge.evaluation import EvaluationConfig, default_threshold, run_evaluation, scan_showers

    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    ref, gen = out / f"ref_{args.geometry}_{args.n}.h5", out / f"gen_{args.geometry}_{args.n}.h5"
    for path, seed in ((ref, 1), (gen, 2)):
        if not path.exists():
            t0 = time.perf_counter()
            write_synthetic(path, args.geometry, args.n, seed)
            print(f"wrote {path} in {time.perf_counter() - t0:.1f} s")
    with ShowerFile(ref, args.geometry) as f:
        edges = np.logspace(np.log10(default_threshold(f.geometry)), 4, 50)
        t0, c0 = time.perf_counter(), _cpu_s()
        scan = scan_showers(f.iter_chunks(5000, validate=False), f.geometry, default_threshold(f.geometry),
                            voxel_edges=edges)
        t_scan, c_scan = time.perf_counter() - t0, _cpu_s() - c0
    cfg = EvaluationConfig(geometry=args.geometry, classifier="none", distances="none", plots=False, baseline=False)
    t0, c0 = time.perf_counter(), _cpu_s()
    report, _ = run_evaluation(ref, {"gen": gen}, cfg)
    t_eval, c_eval = time.perf_counter() - t0, _cpu_s() - c0
    result = {
        "n_showers": args.n,
        "one_pass_features_and_voxel_histogram_wall_s": t_scan,
        "one_pass_features_and_voxel_histogram_cpu_s": c_scan,
        "full_histogram_evaluation_two_files_wall_s": t_eval,
        "full_histogram_evaluation_two_files_cpu_s": c_eval,
        "timing_by_stage_wall_s": report.timing,
        "n_histograms": report.generated["gen"].summary.n_histograms,
        "peak_rss_mb": _peak_rss_mb(),
        "n_events_scanned": scan.n_events,
    }
    return result


def memory_one(args: argparse.Namespace) -> dict[str, float]:
    """Full evaluation (no classifier/distances/plots) of two ``--n``-shower files; peak RSS."""
    from caloforge.evaluation import EvaluationConfig, run_evaluation

    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    ref, gen = out / f"ref_{args.geometry}_{args.n}.h5", out / f"gen_{args.geometry}_{args.n}.h5"
    if not (ref.exists() and gen.exists()):
        msg = "run the 'write' mode first (in another process, so that writing does not set the peak RSS)"
        raise SystemExit(msg)
    base = _peak_rss_mb()
    cfg = EvaluationConfig(geometry=args.geometry, classifier="none", distances="none", plots=False, baseline=False)
    t0, c0 = time.perf_counter(), _cpu_s()
    run_evaluation(ref, {"gen": gen}, cfg)
    return {"n_showers": args.n, "wall_s": time.perf_counter() - t0, "cpu_s": _cpu_s() - c0, "peak_rss_mb": _peak_rss_mb(),
            "rss_before_evaluation_mb": base}


def write(args: argparse.Namespace) -> dict[str, str]:
    """Writes the reference and generated synthetic files of ``--n`` showers if missing."""
    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, seed in (("ref", 1), ("gen", 2)):
        path = out / f"{name}_{args.geometry}_{args.n}.h5"
        if not path.exists():
            write_synthetic(path, args.geometry, args.n, seed)
        paths[name] = str(path)
    return paths


def memory(args: argparse.Namespace) -> list[dict[str, float]]:
    """Runs :func:`memory_one` in a fresh process per size."""
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        common = ["--n", str(n), "--geometry", args.geometry, "--dir", args.dir]
        subprocess.run([sys.executable, __file__, "write", *common], check=True, capture_output=True, text=True)
        res = subprocess.run([sys.executable, __file__, "memory-one", *common], check=True, capture_output=True, text=True)
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=("speed", "memory", "memory-one", "write"))
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--sizes", default="5000,10000,20000")
    p.add_argument("--geometry", default="calochallenge-2")
    p.add_argument("--dir", default=str(Path(tempfile.gettempdir()) / "cf_bench"))
    args = p.parse_args()
    modes = {"speed": speed, "memory": memory, "memory-one": memory_one, "write": write}
    result = modes[args.mode](args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
