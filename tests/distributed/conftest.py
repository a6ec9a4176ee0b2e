"""A module-scoped 2-worker local Dask cluster for the distributed tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    """A client on a local cluster of 2 single-threaded workers (threads: starts in about 1 s)."""
    pytest.importorskip("distributed")
    from caloforge.distributed import connect

    with connect(workers=2, processes=False) as client:
        yield client
