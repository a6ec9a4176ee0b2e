"""``caloforge geant4``: Geant4 full simulation (extra ``geant4``) into a CaloChallenge file."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from caloforge.cli.options import add_compression_argument, add_energies_argument, compression

__all__ = ["register", "run"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``geant4`` subcommand."""
    p = subparsers.add_parser(
        "geant4",
        help="simulate showers with Geant4 (geant4-pybind; needs Geant4's data sets)",
        description="Full Geant4 simulation of a sampling calorimeter (default: 90 x (1.4 mm W + 0.3 mm Si)) scored "
        "into any caloforge geometry and written as a CaloChallenge file, over several processes. Geant4's physics "
        "data sets must be installed; they are never downloaded.",
    )
    p.add_argument("--geometry", default="calochallenge-2", help="readout geometry (default calochallenge-2)")
    p.add_argument("--showers", "-n", "--particles", dest="particles", metavar="N", type=int, default=1000,
                   help="number of showers (default 1000; --particles is the older name)")
    add_energies_argument(p, default="log-uniform:1:100", help_text="incident energies in GeV")
    p.add_argument("--angle-range-deg", type=float, nargs=2, metavar=("LO", "HI"),
                   help="uniform polar incidence angles in degrees (default: along the axis, no angle column)")
    p.add_argument("--particle", default="e-", help="Geant4 particle name (default e-)")
    p.add_argument("--absorber", default="G4_W", help="absorber NIST material (default G4_W)")
    p.add_argument("--active", default="G4_Si", help="active NIST material (default G4_Si)")
    p.add_argument("--absorber-mm", type=float, default=1.4, help="absorber thickness, mm (default 1.4)")
    p.add_argument("--active-mm", type=float, default=0.3, help="active thickness, mm (default 0.3)")
    p.add_argument("--layers", type=int, default=90, help="physical layers (default 90)")
    p.add_argument("--pairs-per-readout", type=int, default=2, help="physical layers per readout layer (default 2)")
    p.add_argument("--physics", choices=["em-standard", "em-option4", "FTFP_BERT"], default="em-standard")
    p.add_argument("--sampling-fraction", type=float, default=0.033, help="deposits are divided by it (0.033)")
    p.add_argument("--g4-data-dir", type=Path, help="directory holding Geant4's data sets (else $GEANT4_DATA_DIR)")
    p.add_argument("--workers", type=int, help="processes (default: all cores)")
    p.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    p.add_argument("-o", "--output", required=True, type=Path, help="output HDF5 file")
    p.add_argument("--force", action="store_true", help="overwrite the output file")
    add_compression_argument(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Simulates; prints the count and time per shower; returns 0."""
    import math

    from caloforge.atomic import prepare_target
    from caloforge.data import Conditions, produce_to_file
    from caloforge.simulate.geant4 import Geant4Config, Geant4Producer

    config = Geant4Config(
        absorber=args.absorber, active=args.active, absorber_mm=args.absorber_mm, active_mm=args.active_mm,
        n_layers=args.layers, pairs_per_readout=args.pairs_per_readout, particle=args.particle,
        physics=args.physics, sampling_fraction=args.sampling_fraction,
    )
    prepare_target(args.output, overwrite=args.force)  # refuse before the data sets are looked up
    producer = Geant4Producer(args.geometry, config, data_dir=args.g4_data_dir, workers=args.workers)
    angles = None
    if args.angle_range_deg is not None:
        angles = (math.radians(args.angle_range_deg[0]), math.radians(args.angle_range_deg[1]))
    conditions = Conditions.from_spec(args.energies, args.particles, args.seed, angles=angles)
    result = produce_to_file(
        producer, conditions, args.output, seed=args.seed, overwrite=args.force, progress=not args.no_progress,
        desc="geant4", compression=compression(args),
    )
    sys.stdout.write(f"wrote {result.n} showers to {result.path} ({result.ms_per_shower:.1f} ms/shower)\n")
    return 0
