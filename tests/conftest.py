"""Shared pytest fixtures: MPI-aware temporary folders and the serial-only marker."""
import os
import tempfile

import pytest
from mpi4py import MPI

os.environ.setdefault("PYVISTA_OFF_SCREEN", "true")


def pytest_collection_modifyitems(config, items):
    if MPI.COMM_WORLD.size == 1:
        return
    skip = pytest.mark.skip(reason="serial-only test (skip_in_parallel)")
    for item in items:
        if "skip_in_parallel" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def comm():
    return MPI.COMM_WORLD


@pytest.fixture
def mpi_tmp_path(tmp_path):
    """A temporary folder whose path is the same on every rank (chosen on rank 0)."""
    comm = MPI.COMM_WORLD
    path = None
    if comm.rank == 0:
        path = tempfile.mkdtemp(prefix="femag-test-")
    path = comm.bcast(path, root=0)
    yield path
