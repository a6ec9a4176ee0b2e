"""Parser for the CaloChallenge binning XML files — the only XML code in caloforge.

Each ``<Layer id=".." r_edges="0,5,10" n_bin_alpha="10"/>`` becomes a cylindrical :class:`Layer`;
layers with ``r_edges="0"`` carry no voxels and are dropped (their ids are kept on the others).

Example:
    >>> xml = '''<Bins><Bin pid="11" name="electron">
    ...   <Layer id="0" r_edges="0,1,2" n_bin_alpha="4"/>
    ...   <Layer id="1" r_edges="0" n_bin_alpha="1"/>
    ... </Bin></Bins>'''
    >>> g = parse_binning(xml, name="toy")
    >>> g.n_voxels, g.particle
    (8, 'electron')
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from caloforge.geometry.geometry import Geometry, Layer

__all__ = ["load_binning", "parse_binning"]


def parse_binning(text: str, *, name: str = "binning", source: str = "<string>") -> Geometry:
    """Builds a :class:`Geometry` from the text of a CaloChallenge binning XML file.

    Arguments:
        text: XML text.
        name: Name given to the geometry.
        source: Where the text came from, for error messages.

    Raises:
        ValueError: If the XML is malformed or a layer's attributes are invalid.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        msg = f"{source}: not a valid binning XML file ({err})"
        raise ValueError(msg) from None
    bins = root.findall("Bin") if root.tag == "Bins" else [root]
    if not bins:
        msg = f"{source}: no <Bin> element"
        raise ValueError(msg)
    if len(bins) > 1:
        msg = f"{source}: {len(bins)} <Bin> elements; caloforge expects one particle per file"
        raise ValueError(msg)
    particle = bins[0].get("name")
    layers: list[Layer] = []
    for node in bins[0].findall("Layer"):
        try:
            layer_id = int(node.get("id", len(layers)))
            edges = tuple(float(v) for v in node.get("r_edges", "0").split(",") if v.strip())
            n_alpha = int(node.get("n_bin_alpha", "1"))
        except ValueError as err:
            msg = f"{source}: layer {node.get('id')!r}: {err}"
            raise ValueError(msg) from None
        if len(edges) < 2:
            continue
        try:
            layers.append(Layer(r_edges=edges, n_alpha=n_alpha, layer_id=layer_id))
        except ValueError as err:
            msg = f"{source}: layer {layer_id}: {err}"
            raise ValueError(msg) from None
    if not layers:
        msg = f"{source}: no layer has voxels"
        raise ValueError(msg)
    return Geometry(name, tuple(layers), particle=particle)


def load_binning(path: str | Path, *, name: str | None = None) -> Geometry:
    """Reads a CaloChallenge binning XML file.

    Arguments:
        path: The XML file.
        name: Geometry name; defaults to the file stem.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If the file is not a valid binning file.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        msg = f"{path}: cannot read binning file ({err.strerror})"
        raise FileNotFoundError(msg) from None
    return parse_binning(text, name=name or path.stem, source=str(path))
