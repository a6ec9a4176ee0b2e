"""The public reference data sets: where to get them, and checking a downloaded file against the catalogue.

caloforge never downloads anything. :data:`DATASETS` lists the CaloChallenge 2022 data sets and the
Geant4 Par04 showers (Zenodo DOI and record, file names, MD5 published with the record, showers per
file, geometry, particle), so that ``caloforge datasets`` can print exactly what to fetch, and
:func:`verify_dataset_file` checks a file that was fetched: its layout and geometry (through
:class:`~caloforge.data.ShowerFile`, which reads both CaloChallenge and Par04 files), its shower count and,
where the catalogue knows it, its MD5.

Example:
    >>> [d.name for d in DATASETS][:2]
    ['calochallenge-1-photons', 'calochallenge-1-pions']
    >>> find_file("dataset_2_1.hdf5")[0].geometry
    'calochallenge-2'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from caloforge.data.io import ShowerFile

__all__ = ["DATASETS", "DatasetFile", "ReferenceDataset", "Verification", "file_md5", "find_file", "verify_dataset_file"]


@dataclass(frozen=True)
class DatasetFile:
    """One file of a published data set.

    Attributes:
        name: File name in the record.
        role: ``"train"`` or ``"evaluate"`` (the challenge's split).
        md5: MD5 published with the record (``None`` when the catalogue does not know it).
        n_showers: Showers in the file (``None`` when unknown).
        size_gb: Approximate download size, GB (``None`` when unknown).
    """

    name: str
    role: str
    md5: str | None = None
    n_showers: int | None = None
    size_gb: float | None = None


@dataclass(frozen=True)
class ReferenceDataset:
    """A published data set of calorimeter showers.

    Attributes:
        name: Short name (the caloforge geometry name where there is one).
        title: The record's subject, one line.
        doi: Zenodo DOI.
        geometry: Built-in caloforge geometry of its files.
        particle: Incident particle.
        energies: Incident-energy range, one line.
        files: The files of the record (empty when the record holds several layouts; see ``note``).
        note: Anything a user needs to know before fetching.
    """

    name: str
    title: str
    doi: str
    geometry: str
    particle: str
    energies: str
    files: tuple[DatasetFile, ...]
    note: str = ""

    @property
    def record_url(self) -> str:
        """The Zenodo record page."""
        return f"https://zenodo.org/records/{self.doi.rsplit('.', 1)[-1]}"

    def file_url(self, file: DatasetFile) -> str:
        """Direct download address of one file of the record."""
        return f"{self.record_url}/files/{file.name}?download=1"


_DS1_NOTE = "record 8099322 is the corrected version of dataset 1 (updated binning files); use it, not the first one"

#: The catalogue, CaloChallenge 2022 (datasets 1 to 3) then Geant4 Par04.
DATASETS: tuple[ReferenceDataset, ...] = (
    ReferenceDataset(
        "calochallenge-1-photons", "Fast Calorimeter Simulation Challenge 2022, dataset 1 (photons)",
        "10.5281/zenodo.8099322", "calochallenge-1-photons", "photon", "256 MeV - 4 TeV (powers of 2)",
        (DatasetFile("dataset_1_photons_1.hdf5", "train", "005d2adeda7db034b388112661265656"),
         DatasetFile("dataset_1_photons_2.hdf5", "evaluate", "4767715ed56e99565fd9c67340661e70")),
        _DS1_NOTE,
    ),
    ReferenceDataset(
        "calochallenge-1-pions", "Fast Calorimeter Simulation Challenge 2022, dataset 1 (charged pions)",
        "10.5281/zenodo.8099322", "calochallenge-1-pions", "pi+", "256 MeV - 4 TeV (powers of 2)",
        (DatasetFile("dataset_1_pions_1.hdf5", "train", "6a5f52722064a1bcd8a0bc002f16515d"),
         DatasetFile("dataset_1_pions_2.hdf5", "evaluate", "fee7457b40127bc23c8ab909e2638ca0")),
        _DS1_NOTE,
    ),
    ReferenceDataset(
        "calochallenge-2", "Fast Calorimeter Simulation Challenge 2022, dataset 2 (electrons, 6,480 voxels)",
        "10.5281/zenodo.6366271", "calochallenge-2", "electron", "1 GeV - 1 TeV (log-uniform)",
        (DatasetFile("dataset_2_1.hdf5", "train", "e590333e9a2da51b258288d74bd8357a", 100_000, 1.36),
         DatasetFile("dataset_2_2.hdf5", "evaluate", "7a56fd68aa53ded37c2ac445694d9736", 100_000, 1.36)),
    ),
    ReferenceDataset(
        "calochallenge-3", "Fast Calorimeter Simulation Challenge 2022, dataset 3 (electrons, 40,500 voxels)",
        "10.5281/zenodo.6366324", "calochallenge-3", "electron", "1 GeV - 1 TeV (log-uniform)",
        (DatasetFile("dataset_3_1.hdf5", "train", "d33f03418aa311b0965452fcbef1ff87", 50_000),
         DatasetFile("dataset_3_2.hdf5", "train", "911dec2c40aafa64a07b7450b80881bf", 50_000),
         DatasetFile("dataset_3_3.hdf5", "evaluate", "5ea62f6831a1821bb5035fafc9f030e8", 50_000),
         DatasetFile("dataset_3_4.hdf5", "evaluate", "5e8d82e6a6c28c6914a3b602a1cfa299", 50_000)),
    ),
    ReferenceDataset(
        "par04", "Geant4 Par04 example: highly granular electron showers (Si-W and SciPb calorimeters)",
        "10.5281/zenodo.6082201", "par04", "electron", "1 GeV - 1 TeV, several incidence angles",
        (),
        "per-energy HDF5 files, 18 r x 50 phi x 45 z; caloforge reads them directly (geometry par04, the "
        "calochallenge-3 binning); pick the files of one calorimeter from the record page",
    ),
)


def find_file(name: str) -> tuple[ReferenceDataset, DatasetFile] | None:
    """The data set and catalogue entry of a file name (``None`` when the catalogue has no such file)."""
    for ds in DATASETS:
        for f in ds.files:
            if f.name == name:
                return ds, f
    return None


def _find_md5(digest: str) -> tuple[ReferenceDataset, DatasetFile] | None:
    for ds in DATASETS:
        for f in ds.files:
            if f.md5 == digest:
                return ds, f
    return None


def file_md5(path: str | Path) -> str:
    """MD5 of a file, hex, read in 4 MiB chunks (the checksum Zenodo publishes)."""
    digest = hashlib.md5(usedforsecurity=False)
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Verification:
    """What :func:`verify_dataset_file` found.

    Attributes:
        path: The file.
        layout: ``"calochallenge"`` or a Par04 layout (``"par04"``, ``"par04-converter"``).
        geometry: Geometry of the file (stored, given or guessed from the voxel count).
        n_showers: Showers in the file.
        md5: The file's MD5 (``None`` when not computed).
        dataset: The catalogue data set it belongs to (``None`` when unknown).
        file: Its catalogue entry (``None`` when unknown).
        problems: Every disagreement with the catalogue, one sentence each; empty when the file is good.
    """

    path: str
    layout: str
    geometry: str
    n_showers: int
    md5: str | None
    dataset: ReferenceDataset | None
    file: DatasetFile | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether the file agrees with everything the catalogue knows about it."""
        return not self.problems


def verify_dataset_file(path: str | Path, *, checksum: bool = True) -> Verification:
    """Checks a downloaded file: readable shower layout, geometry, shower count and (by default) MD5.

    The file is matched to the catalogue by its name, or, for a renamed file, by its MD5.

    Raises:
        caloforge.data.ShowerFileError: Not a readable CaloChallenge or Par04 shower file (the message says why).
    """
    path = Path(path)
    with ShowerFile(path) as f:
        layout = str(f.attrs.get("source_format", "calochallenge"))
        geometry, n = f.geometry.name, f.n_events
    digest = file_md5(path) if checksum else None
    match = find_file(path.name)
    if match is None and digest is not None:
        match = _find_md5(digest)
    problems: list[str] = []
    if match is not None:
        ds, entry = match
        if geometry != ds.geometry and not {geometry, ds.geometry} <= {"calochallenge-3", "par04"}:
            problems.append(f"geometry {geometry}, but {entry.name} of {ds.name} has geometry {ds.geometry}")
        if entry.n_showers is not None and n != entry.n_showers:
            problems.append(f"{n} showers, but {entry.name} has {entry.n_showers} (incomplete download?)")
        if digest is not None and entry.md5 is not None and digest != entry.md5:
            problems.append(f"MD5 {digest} differs from the published {entry.md5} (corrupted or incomplete download)")
    ds_found, file_found = match if match is not None else (None, None)
    return Verification(str(path), layout, geometry, n, digest, ds_found, file_found, tuple(problems))
