"""``caloforge config list`` / ``caloforge config show NAME``: the configurations shipped with caloforge.

The YAML files of the checkout's ``configs/`` directory are package data (the wheel holds them as
``caloforge/configs/``), so an installed caloforge can print them: ``caloforge config show
vae-smoke > my.yaml`` gives a file to edit and pass to ``caloforge train`` (or, for ``pipeline-demo``,
``caloforge run --config``). ``show`` prints the file byte for byte, comments included.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.resources
import sys
from pathlib import Path

__all__ = ["config_dir", "read_config", "register", "run", "shipped_configs"]


def config_dir() -> Path:
    """The shipped configurations: ``caloforge/configs/`` in an installed wheel, else the checkout's ``configs/``."""
    packaged = Path(str(importlib.resources.files("caloforge"))) / "configs"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "configs"  # src/caloforge/cli/config.py → the checkout


def shipped_configs() -> dict[str, Path]:
    """Name (the file stem) → path of every shipped configuration, sorted by name."""
    root = config_dir()
    if not root.is_dir():
        return {}
    return {p.stem: p for p in sorted(root.glob("*.yaml"))}


def read_config(name: str) -> str:
    """The text of the shipped configuration ``name`` (with or without ``.yaml``).

    Raises:
        KeyError: Unknown name; the message suggests the closest names and lists the rest.
    """
    configs = shipped_configs()
    stem = name.removesuffix(".yaml").removesuffix(".yml")
    if stem not in configs:
        close = difflib.get_close_matches(stem, list(configs), n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        msg = f"no shipped configuration {name!r}; {hint}available: {', '.join(configs) or 'none'} (caloforge config list)"
        raise KeyError(msg)
    return configs[stem].read_text(encoding="utf-8")


def _describe(text: str) -> tuple[str, str]:
    """(kind, first comment line) of a configuration's text."""
    keys = {line.split(":", 1)[0] for line in text.splitlines() if line[:1].isalpha() and ":" in line}
    kind = "pipeline" if "models" in keys and "model" not in keys else "train"
    kind = "tune" if "search_space" in keys and "model" not in keys else kind
    for line in text.splitlines():
        if line.startswith("#"):
            return kind, line.lstrip("#").strip()
    return kind, ""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``config`` subcommand (``list``, ``show NAME``)."""
    p = subparsers.add_parser(
        "config",
        help="list or print the configurations shipped with caloforge",
        description="List the shipped training, pipeline and tune configurations, or print one to edit: "
        "caloforge config show vae-smoke > my.yaml; caloforge train my.yaml",
    )
    actions = p.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    actions.add_parser("list", help="name, kind and description of every shipped configuration")
    show = actions.add_parser("show", help="print a shipped configuration (redirect it to a file to edit it)")
    show.add_argument("name", help="configuration name, as in `caloforge config list`")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Lists or prints; returns 0."""
    if args.config_action == "show":
        sys.stdout.write(read_config(args.name))
        return 0
    configs = shipped_configs()
    if not configs:
        sys.stdout.write(f"no configurations are shipped in this installation ({config_dir()})\n")
        return 0
    rows = [("name", "kind", "description")]
    rows += [(name, *_describe(path.read_text(encoding="utf-8"))) for name, path in configs.items()]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = [f"{r[0].ljust(widths[0])}  {r[1].ljust(widths[1])}  {r[2]}".rstrip() for r in rows]
    lines.append("print one: caloforge config show NAME > my.yaml")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
