"""Fixtures of the fault matrix: an Azurite of its own (the Azurite cells stop and restart it on the same
ports and location, which the session Azurite other tests share must never see), and the cells' results,
kept so the separate checks on one cell run it once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.faults import CellResult, fixed_azurite
from localdev.azurite import Azurite


@pytest.fixture(scope="session")
def own_azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    instance = fixed_azurite(Path(tmp_path_factory.mktemp("azurite-faults")))
    with instance:
        yield instance


@pytest.fixture(scope="session")
def cell_results() -> dict[str, CellResult]:
    return {}
