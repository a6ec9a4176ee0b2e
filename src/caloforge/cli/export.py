"""``caloforge export``: a checkpoint's generation path → ONNX or TorchScript, verified against PyTorch."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from caloforge.cli.zoo import add_pretrained_option

__all__ = ["register", "run"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``export`` subcommand."""
    p = subparsers.add_parser(
        "export",
        help="export a trained model to ONNX or TorchScript (with a parity check)",
        description="Export the generation path (conditions + noise → voxel energies in MeV) as one graph with a "
        "dynamic batch axis. The export is run on a seeded batch and compared with PyTorch; a model that fails "
        "the parity check is not written. ONNX inputs: incident_energy (B,1) MeV, angle (B,1) rad (angle-"
        "conditioned models only), noise (B,noise_dim); output: showers (B,n_voxels) MeV.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", type=Path, help="training checkpoint or saved model (.pt)")
    add_pretrained_option(source)
    p.add_argument("--format", choices=["onnx", "torchscript"], default="onnx", help="default: onnx")
    p.add_argument("-o", "--output", required=True, type=Path, help="output model file")
    p.add_argument("--par04", action="store_true", help="Geant4 Par04 signature: input (B, noise_dim+4), "
                   "output (B, r*phi*z) normalised to the incident energy; its angle input is Par04's global polar angle "
                   "(90 deg = perpendicular), translated to caloforge's angle from the layer normal (0 = head-on)")
    p.add_argument("--par04-max-energy-gev", type=float, default=1024.0, help="Par04 fMaxEnergy (default 1024)")
    p.add_argument("--par04-max-angle-deg", type=float, default=90.0, help="Par04 fMaxAngle (default 90)")
    p.add_argument("--quantize", nargs="+", choices=["int8", "fp16"], default=[],
                   help="also write reduced-precision ONNX variants (OUTPUT-int8.onnx, OUTPUT-fp16.onnx)")
    p.add_argument("--opset", type=int, help="ONNX opset (default 17; 15 with --par04, which ONNX Runtime 1.11.1 "
                   "loads, as Par04 uses)")
    p.add_argument("--n-check", type=int, default=64, help="showers in the parity batch (default 64)")
    p.add_argument("--rtol", type=float, default=1e-3, help="parity relative tolerance (default 1e-3)")
    p.add_argument("--atol", type=float, default=1e-2, help="parity absolute tolerance in MeV (default 1e-2)")
    p.add_argument("--no-ema", action="store_true", help="use the raw weights instead of the EMA weights")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exports; prints the parity result and file sizes; returns 0 (2 when parity fails)."""
    from caloforge.export.graph import Par04Settings
    from caloforge.models.serialization import load_model

    if args.quantize and args.format != "onnx":
        msg = "--quantize needs --format onnx"
        raise ValueError(msg)
    from caloforge.atomic import prepare_target

    variants = {p: args.output.with_name(f"{args.output.stem}-{p}{args.output.suffix}") for p in args.quantize}
    for target in (args.output, *variants.values()):  # every output is refused before any is written
        prepare_target(target, overwrite=args.force)
    if args.pretrained is not None:
        from caloforge.models.pretrained import load_pretrained

        model = load_pretrained(args.pretrained)
    else:
        model = load_model(args.checkpoint, use_ema=not args.no_ema)
    par04 = Par04Settings(args.par04_max_energy_gev * 1e3, args.par04_max_angle_deg)
    options = {"signature": "par04" if args.par04 else "caloforge", "par04": par04, "n_check": args.n_check,
               "rtol": args.rtol, "atol": args.atol, "overwrite": args.force}
    if args.format == "onnx":
        from caloforge.export.onnx import export_onnx

        result = export_onnx(model, args.output, opset=args.opset, **options)
    else:
        from caloforge.export.torchscript import export_torchscript

        result = export_torchscript(model, args.output, **options)
    sys.stdout.write(f"wrote {result.path} ({result.size_bytes / 1e3:.1f} kB, {result.signature} signature)\n"
                     f"{result.parity}\n")
    macro = getattr(result, "macro", None)
    if macro is not None:
        sys.stdout.write(f"wrote {macro} (Geant4 Par04 macro: /control/execute {macro.name} after /run/initialize)\n")
    latent_kde = getattr(result, "latent_kde", None)
    if latent_kde is not None:
        sys.stdout.write(f"wrote {latent_kde} (latent KDE that generation draws from; keep it beside the model)\n")
    for precision in args.quantize:
        from caloforge.export.quantize import quantize_onnx

        q = quantize_onnx(args.output, variants[precision], precision, overwrite=args.force)
        sys.stdout.write(f"wrote {q.path} ({q.size_bytes / 1e3:.1f} kB): max |Δ| vs fp32 {q.deviation.max_abs:.3g} MeV, "
                         f"total-energy shift {q.energy_shift:+.2e}\n")
    return 0
