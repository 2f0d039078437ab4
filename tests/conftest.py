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


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report):
    """Under MPI, a failure on one rank aborts every rank.

    Without this, the failing rank stops (``-x``) or moves on while the others
    wait in a collective call of the same test, and ``mpirun`` hangs forever.
    """
    comm = MPI.COMM_WORLD
    if comm.size > 1 and report.failed:
        import sys

        sys.stderr.write(
            f"\n[rank {comm.rank}] FAILED {report.nodeid} ({report.when}):\n{report.longreprtext}\n"
        )
        sys.stderr.flush()
        comm.Abort(1)


TEST_TIME_LIMIT = float(os.environ.get("FEMAG_TEST_TIME_LIMIT", 900))  # s per test


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """A test that runs longer than FEMAG_TEST_TIME_LIMIT seconds (a deadlock under MPI)
    prints every thread's stack and ends the process, so that mpirun stops instead of
    hanging until the CI time limit (the stack reaches the log with --capture=sys, as in
    `make test-mpi`)."""
    import faulthandler
    import sys

    faulthandler.dump_traceback_later(TEST_TIME_LIMIT, exit=True, file=sys.__stderr__)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
