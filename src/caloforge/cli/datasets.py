"""``caloforge datasets``: the public reference data sets, ``verify FILE`` and ``convert SOURCE OUT``.

Nothing is downloaded: the listing prints the Zenodo record, the file names, MD5s and a ready
``curl`` line for each file; ``verify`` checks a fetched file's layout, geometry, shower count and MD5
(exit 1 when it disagrees with the catalogue); ``convert`` writes a Par04 file, or a set of Par04
per-angle files (a directory, a glob), as one CaloChallenge file with the angles as its angle dataset.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``datasets`` subcommand (``list``, the default, and ``verify FILE``)."""
    p = subparsers.add_parser(
        "datasets",
        help="list the CaloChallenge and Par04 data sets (what to download) or verify a downloaded file",
        description="List the public calorimeter-shower data sets caloforge reads (CaloChallenge 2022 datasets "
        "1-3, Geant4 Par04): Zenodo DOI, files, MD5, size, geometry, particle, and the command that fetches each "
        "file. caloforge never downloads by itself. `caloforge datasets verify FILE` checks a downloaded file.",
    )
    actions = p.add_subparsers(dest="datasets_action", metavar="ACTION")
    lister = actions.add_parser("list", help="the catalogue (the default)")
    lister.add_argument("name", nargs="?", help="only this data set (e.g. calochallenge-2)")
    lister.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    verify = actions.add_parser("verify", help="check a downloaded file: layout, geometry, showers, MD5")
    verify.add_argument("file", help="the downloaded HDF5 file")
    verify.add_argument("--no-checksum", action="store_true", help="skip the MD5 (a full read of the file)")
    convert = actions.add_parser(
        "convert",
        help="write a Par04 file (or per-angle files) as one CaloChallenge file",
        description="Reads a Par04 file (either layout), or Par04 per-angle files <geo>_angle_<A>.h5 given as a "
        "directory, a glob or a single such name (A is Par04's polar angle, 90 = perpendicular; stored as "
        "caloforge's angle from the layer normal), and writes them as one CaloChallenge HDF5 file.",
    )
    convert.add_argument("source", help="Par04 file, directory of per-angle files, or a quoted glob")
    convert.add_argument("out", help="the CaloChallenge file to write")
    convert.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.set_defaults(func=run, name=None, json=False)


def _as_dict(ds: Any) -> dict[str, Any]:
    return {
        "name": ds.name, "title": ds.title, "doi": ds.doi, "record": ds.record_url, "geometry": ds.geometry,
        "particle": ds.particle, "energies": ds.energies, "note": ds.note,
        "files": [{"name": f.name, "role": f.role, "md5": f.md5, "showers": f.n_showers, "size_gb": f.size_gb,
                   "url": ds.file_url(f)} for f in ds.files],
    }


def _listing(name: str | None, as_json: bool) -> int:
    from caloforge.data.datasets import DATASETS

    chosen = [d for d in DATASETS if name is None or d.name == name]
    if not chosen:
        msg = f"no data set {name!r} in the catalogue; known: {', '.join(d.name for d in DATASETS)}"
        raise KeyError(msg)
    if as_json:
        sys.stdout.write(json.dumps([_as_dict(d) for d in chosen], indent=2) + "\n")
        return 0
    lines: list[str] = []
    for ds in chosen:
        lines += [f"{ds.name}: {ds.title}", f"  DOI {ds.doi}  ({ds.record_url})",
                  f"  geometry {ds.geometry}, particle {ds.particle}, energies {ds.energies}"]
        if ds.note:
            lines.append(f"  note: {ds.note}")
        for f in ds.files:
            size = f"~{f.size_gb:g} GB" if f.size_gb is not None else "size: see record"
            showers = f"{f.n_showers:,} showers" if f.n_showers is not None else "showers: see record"
            lines.append(f"  {f.name:<26} {f.role:<8} {showers}, {size}, md5 {f.md5 or 'unknown'}")
            lines.append(f"    curl -L -o {f.name} '{ds.file_url(f)}'")
        lines.append("")
    lines.append("caloforge downloads nothing; after fetching, check a file: caloforge datasets verify FILE")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _convert(source: str, out: str, *, force: bool) -> int:
    from caloforge.data import is_par04_angle_source, read_par04, read_par04_angles, write_showers

    data = read_par04_angles(source) if is_par04_angle_source(source) else read_par04(source)
    write_showers(out, data, overwrite=force)
    angles = "" if data.angles is None else f", angles {sorted({round(float(a), 4) for a in data.angles})[:8]} rad"
    sys.stdout.write(f"wrote {out}: {len(data):,} showers on {data.geometry.name}{angles}\n")
    return 0


def run(args: argparse.Namespace) -> int:
    """Lists the catalogue (0), converts Par04 files (0), or verifies a file (0 when it agrees, else 1)."""
    if args.datasets_action == "convert":
        return _convert(args.source, args.out, force=args.force)
    if args.datasets_action != "verify":
        return _listing(args.name, args.json)
    from caloforge.data.datasets import verify_dataset_file

    v = verify_dataset_file(args.file, checksum=not args.no_checksum)
    what = f"{v.file.name} of {v.dataset.name} ({v.dataset.doi})" if v.dataset and v.file else "not in the catalogue"
    lines = [
        f"file      {v.path}",
        f"layout    {v.layout}",
        f"geometry  {v.geometry}",
        f"showers   {v.n_showers:,}",
        f"md5       {v.md5 or 'not computed'}",
        f"matches   {what}",
    ]
    lines += [f"problem   {p}" for p in v.problems]
    if v.ok:
        lines.append("ok" if v.dataset else "readable shower file (unknown to the catalogue, so no checksum to compare)")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0 if v.ok else 1
