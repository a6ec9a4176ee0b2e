"""``caloforge zoo``: the shipped pretrained models as a table or JSON; the ``--pretrained NAME`` option.

``generate``, ``export`` and ``bench`` take ``--pretrained NAME`` (exclusive with ``--checkpoint``
and ``--model``) through :func:`add_pretrained_option` and :func:`use_pretrained`, which checks the
weights' SHA-256 and puts the verified file in ``args.checkpoint``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from caloforge.models.pretrained import PretrainedModel

__all__ = ["add_pretrained_option", "format_table", "register", "run", "use_pretrained"]

_COLUMNS = ("name", "family", "geometry", "particle", "GeV", "steps", "voxel AUC", "HL AUC", "sep. power",
            "ms/shower", "card")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``zoo`` subcommand."""
    p = subparsers.add_parser(
        "zoo",
        help="list the shipped pretrained models (use one with --pretrained NAME)",
        description="List the pretrained models shipped with caloforge: geometry, particle, energy range, network "
        "evaluations per shower, held-out classifier AUCs and separation power, ms/shower at batch 1,000 and the "
        "model card. Use one with `caloforge generate|export|bench --pretrained NAME` or "
        "caloforge.models.load_pretrained(NAME).",
    )
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per model")
    p.add_argument("--verify", action="store_true", help="check every weights file's SHA-256 (exit 2 on a mismatch)")
    p.set_defaults(func=run)


def add_pretrained_option(group: argparse._MutuallyExclusiveGroup) -> None:
    """Adds ``--pretrained NAME`` to a subcommand's (mutually exclusive) model-source group."""
    group.add_argument("--pretrained", metavar="NAME", help="a shipped pretrained model (list them: caloforge zoo)")


def use_pretrained(args: argparse.Namespace) -> PretrainedModel | None:
    """Resolves ``args.pretrained``: verifies its weights and sets ``args.checkpoint`` to the file.

    Returns:
        The manifest entry, or ``None`` without ``--pretrained``.

    Raises:
        KeyError: Unknown name (the message lists the available ones).
        caloforge.models.CheckpointError: Missing weights or a SHA-256 mismatch.
    """
    if getattr(args, "pretrained", None) is None:
        return None
    from caloforge.models.pretrained import get_pretrained, pretrained_file

    entry = get_pretrained(args.pretrained)
    args.checkpoint = pretrained_file(args.pretrained)
    return entry


def _row(e: PretrainedModel) -> list[str]:
    lo, hi = e.energy_range_gev
    m = e.metrics
    return [e.name, e.family, e.geometry, e.particle, f"{lo:g}-{hi:g}", str(e.steps), f"{m.voxel_auc:.3f}",
            f"{m.high_level_auc:.3f}", f"{m.separation_power_mean:.4f}", f"{e.ms_per_shower:.3g}", e.card]


def format_table(entries: list[PretrainedModel]) -> str:
    """A fixed-width text table of ``entries`` (header line, then one line per model)."""
    rows = [list(_COLUMNS), *(_row(e) for e in entries)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def run(args: argparse.Namespace) -> int:
    """Prints the zoo; returns 0 (2 when ``--verify`` finds a bad file)."""
    from caloforge.models.pretrained import list_pretrained, pretrained_file, resolve_zoo_dir

    entries = list_pretrained()
    if args.verify:
        for e in entries:
            pretrained_file(e.name)  # raises CheckpointError (exit 2) on a mismatch
    if args.json:
        payload: list[dict[str, Any]] = [e.to_dict() for e in entries]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return 0
    if not entries:
        sys.stdout.write(f"no pretrained models are shipped in this installation (zoo: {resolve_zoo_dir()})\n")
        return 0
    sys.stdout.write(format_table(entries) + "\n")
    if args.verify:
        sys.stdout.write(f"all {len(entries)} weights files match their SHA-256\n")
    return 0
