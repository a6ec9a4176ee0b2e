"""``caloforge simulate``: generate showers with the built-in GFlash simulator into a CaloChallenge file."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from caloforge.cli.options import add_compression_argument, add_energies_argument, compression

if TYPE_CHECKING:
    import numpy as np

    from caloforge.data import Conditions
    from caloforge.simulate.angle_spec import AngleSpec

__all__ = ["register", "run"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``simulate`` subcommand."""
    p = subparsers.add_parser(
        "simulate",
        help="simulate showers with the built-in parameterised (GFlash) simulator",
        description="Simulate electron, photon or pion showers with the built-in GFlash-style parameterised "
        "simulator (electromagnetic and GFLASH hadronic profiles in the geometry's layer materials) and write "
        "them as a CaloChallenge HDF5 file (energies in MeV).",
    )
    p.add_argument("--geometry", default="calochallenge-2", help="built-in geometry name or binning XML file")
    p.add_argument("--particle", choices=("electron", "photon", "pion"), default="electron",
                   help="incident particle (default electron); photons and pions use the layers' materials "
                   "(built-in: calochallenge-1-*, ild-48x25x25; Si-W otherwise)")
    p.add_argument(
        "--layer-thickness-mm",
        type=float,
        help="readout layer depth in mm (needed for binning XML files; overrides the built-in value)",
    )
    p.add_argument("--showers", "-n", "--particles", dest="particles", metavar="N", type=int, default=10_000,
                   help="number of showers (default 10000; --particles is the older name)")
    add_energies_argument(p, default="log-uniform:1:100")
    p.add_argument("--angle", metavar="SPEC", help="polar angle θ from the layer normal in degrees, [0, 90): fixed (30), "
                   "a uniform range (0:40) or a list drawn from (0,20,40); stored in the file (default: head-on)")
    p.add_argument("--phi", metavar="SPEC", help="azimuth φ of the inclination in degrees (0 = towards +x), same "
                   "grammar as --angle (default 0; kept as the file attribute phi_spec)")
    p.add_argument("--frame", choices=("detector", "shower"), help="readout frame of inclined showers: detector "
                   "(layers = detector layers, default) or shower (Par04 mesh along the particle)")
    p.add_argument("-o", "--output", required=True, type=Path, help="output HDF5 file")
    p.add_argument("--seed", type=int, help="random seed (default: a fresh one, logged and stored in the file)")
    p.add_argument("--batch-size", type=int, default=None, help="showers per vectorised batch")
    p.add_argument("--force", action="store_true", help="overwrite the output file")
    add_compression_argument(p)
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--workers", type=int, help="simulate in shards on a local Dask cluster of N processes "
                   "(the file depends on --seed and --shard-size only; needs caloforge[dask])")
    p.add_argument("--dask-scheduler", metavar="ADDRESS", help="simulate in shards on a running Dask cluster "
                   "(tcp://host:8786 or a scheduler file), e.g. SLURM/HTCondor via dask-jobqueue")
    p.add_argument("--shard-size", type=int, default=10_000, help="showers per shard with --workers/--dask-scheduler")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Runs the simulation; returns 0."""
    import numpy as np

    from caloforge.data import Conditions, produce_to_file, resolve_seed
    from caloforge.geometry import get_geometry, load_binning
    from caloforge.simulate import GFlashProducer
    from caloforge.simulate.angle_spec import parse_angle_spec

    name = args.geometry
    is_file = name.endswith(".xml") or Path(name).is_file()
    geometry = load_binning(name) if is_file else get_geometry(name)
    if args.layer_thickness_mm is not None:
        geometry = dataclasses.replace(geometry, layer_thickness_mm=args.layer_thickness_mm)
    if geometry.layer_depths_mm is None:
        msg = f"geometry {geometry.name!r} has no layer depth; pass --layer-thickness-mm (3.4 for Si-W CaloChallenge)"
        raise ValueError(msg)
    seed = resolve_seed(args.seed)
    angle, attrs = _angle_options(args)
    producer = GFlashProducer(
        geometry, batch_size=args.batch_size, particle=args.particle, frame=None if angle is None else (args.frame or "detector"),
        phi=0.0 if args.phi is None else parse_angle_spec(args.phi, option="--phi", polar=False),
    )
    angle_seed = np.random.SeedSequence(seed).spawn(3)[2]  # a stream of its own: the energies stay as without --angle
    if args.workers is not None or args.dask_scheduler is not None:
        from caloforge.distributed import cluster, produce_sharded

        conditions = _with_angles(Conditions.from_spec(args.energies, args.particles, seed), angle, angle_seed)
        attrs = {"energy_spec": conditions.source, **attrs}
        with cluster(args.workers or 1, args.dask_scheduler) as client:
            sharded = produce_sharded(
                producer, conditions, args.output, seed=seed, shard_size=args.shard_size, client=client,
                overwrite=args.force, progress=not args.no_progress, attrs=attrs, compression=compression(args),
            )
        logger.info("simulated %d showers in %d shards into %s in %.1f s", sharded.n, sharded.n_shards,
                    sharded.path, sharded.seconds)
        return 0
    # energies and showers from two independent streams of the seed
    conditions = Conditions.from_spec(args.energies, args.particles, np.random.SeedSequence(seed).spawn(2)[0])
    conditions = _with_angles(conditions, angle, angle_seed)
    result = produce_to_file(
        producer, conditions, args.output, seed=seed, overwrite=args.force, progress=not args.no_progress,
        attrs={"energy_spec": conditions.source, **attrs}, desc="simulate", compression=compression(args),
    )
    logger.info(
        "simulated %d showers (%s) into %s in %.1f s (%.0f showers/s)",
        result.n, geometry.name, result.path, result.seconds, result.showers_per_second,
    )
    return 0


def _angle_options(args: argparse.Namespace) -> tuple[AngleSpec | None, dict[str, str]]:
    """The parsed ``--angle`` spec (``None``: head-on) and its file attribute; checks the angle options together."""
    from caloforge.simulate.angle_spec import parse_angle_spec

    if args.angle is None:
        for flag, value in (("--phi", args.phi), ("--frame", args.frame)):
            if value is not None:
                msg = f"{flag} needs --angle (without it the showers enter head-on)"
                raise ValueError(msg)
        return None, {}
    spec = parse_angle_spec(args.angle)
    return spec, {"angle_spec": spec.text}


def _with_angles(conditions: Conditions, spec: AngleSpec | None, seed: np.random.SeedSequence) -> Conditions:
    """The conditions with polar angles drawn from ``spec`` (rad), or unchanged without one."""
    import numpy as np

    if spec is None:
        return conditions
    return dataclasses.replace(conditions, angles=spec.sample(len(conditions), np.random.default_rng(seed)))
