from __future__ import annotations

from pathlib import Path

import pytest

from caloforge.geometry import get_geometry, load_binning, parse_binning

from ..conftest import BINNING_DIR

OFFICIAL = {
    "calochallenge-1-photons": "binning_dataset_1_photons.xml",
    "calochallenge-1-pions": "binning_dataset_1_pions.xml",
    "calochallenge-2": "binning_dataset_2.xml",
    "calochallenge-3": "binning_dataset_3.xml",
}


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_builtin_equals_official_xml(name: str) -> None:
    path = BINNING_DIR / OFFICIAL[name]
    if not path.exists():
        pytest.skip("official binning files not available")
    parsed = load_binning(path, name=name)
    builtin = get_geometry(name)
    assert parsed.same_binning(builtin)
    assert parsed.n_voxels == builtin.n_voxels
    assert parsed.particle == builtin.particle


def test_empty_layers_dropped_ids_kept() -> None:
    text = """<Bins><Bin pid="22" name="photon">
      <Layer id="0" r_edges="0,5,10" n_bin_alpha="1"/>
      <Layer id="1" r_edges="0" n_bin_alpha="1"/>
      <Layer id="2" r_edges="0,2,4,6" n_bin_alpha="10"/>
    </Bin></Bins>"""
    g = parse_binning(text)
    assert [lay.layer_id for lay in g.layers] == [0, 2]
    assert g.n_voxels == 2 + 30
    assert g.layers_with_angular_bins == (1,)


def test_bad_xml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<Bins><Bin>")
    with pytest.raises(ValueError, match=r"bad\.xml"):
        load_binning(bad)
    with pytest.raises(ValueError, match="no layer has voxels"):
        parse_binning('<Bins><Bin name="x"><Layer id="0" r_edges="0"/></Bin></Bins>')
    with pytest.raises(FileNotFoundError, match=r"missing\.xml"):
        load_binning(tmp_path / "missing.xml")
