"""Sharded-generation throughput with 0 (in-process), 1 and 2 local Dask workers.

Generates the same showers (same seed and shard size, so identical files) with the built-in GFlash simulator,
or with a trained checkpoint (``--checkpoint``), once in-process and once on local clusters of 1 and 2
single-threaded worker processes, and reports showers/s and ms/shower. The cluster start-up is timed
separately and excluded from the throughput. Every worker runs one thread (``OMP_NUM_THREADS=1``), so on a
2-core machine 2 workers can at best double the in-process single-thread throughput.

    OMP_NUM_THREADS=1 python benchmarks/bench_dask.py -n 20000 --out bench-dask.json
    OMP_NUM_THREADS=1 python benchmarks/bench_dask.py --checkpoint runs/x/model.pt -n 20000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from caloforge.data import Conditions, read_showers
from caloforge.distributed import connect, produce_sharded
from caloforge.sampling import ModelProducer
from caloforge.simulate import GFlashProducer


def _run(producer: Any, energies: Conditions, workers: int, shard_size: int, tmp: Path) -> dict[str, Any]:
    out = tmp / f"w{workers}.h5"
    if workers == 0:
        run = produce_sharded(producer, energies, out, seed=1, shard_size=shard_size)
        startup = 0.0
    else:
        t0 = time.perf_counter()
        with connect(workers=workers, processes=True) as client:
            client.wait_for_workers(workers)
            startup = time.perf_counter() - t0
            run = produce_sharded(producer, energies, out, seed=1, shard_size=shard_size, client=client)
    row = {
        "workers": workers, "n": run.n, "shards": run.n_shards, "seconds": run.seconds,
        "showers_per_second": run.showers_per_second, "ms_per_shower": 1e3 / run.showers_per_second,
        "cluster_startup_seconds": startup,
    }
    print(json.dumps(row))
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=20_000, help="showers per run")
    p.add_argument("--shard-size", type=int, default=2_000)
    p.add_argument("--geometry", default="calochallenge-2")
    p.add_argument("--checkpoint", help="time a trained model instead of the simulator")
    p.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--out", type=Path, help="write the results as JSON")
    args = p.parse_args(argv)
    energies = Conditions.from_spec("log-uniform:1:100", args.n, 0)
    if args.checkpoint:
        producer: Any = ModelProducer(args.checkpoint, batch_size=1000, device="cpu", threads=1)
    else:
        producer = GFlashProducer(args.geometry)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [_run(producer, energies, w, args.shard_size, Path(tmp)) for w in args.workers]
        files = [read_showers(Path(tmp) / f"w{w}.h5").showers for w in args.workers]
        identical = all(np.array_equal(files[0], f) for f in files[1:])
    result = {
        "producer": args.checkpoint or f"GFlash {args.geometry}", "identical_files": identical, "rows": rows,
        "cpu_count": os.cpu_count(), "load_average_1min": os.getloadavg()[0], "python": sys.version.split()[0],
        "machine": platform.platform(),
    }
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
