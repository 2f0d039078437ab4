"""Checkpoints (femag.checkpoint) and resumed output folders (Output(resume=True)).

Serial and under mpirun -n 2. What would fail: m restored in the wrong node order (a
checkpoint from another rank count, compared with the analytic m(x) it was set to), a
damaged newest checkpoint being used, a checkpoint half-written under its final name,
a resumed run that duplicates, loses or shifts table rows and ParaView steps, or ends
in another state than an uninterrupted run.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest
from mpi4py import MPI

import femag
from femag import checkpoint
from femag.checkpoint import CheckpointError, Checkpointer

NM = 1e-9
MAT = femag.Material(Ms=8e5, A=1.3e-11, alpha=0.2)


def _m_of_x(x):
    """A smooth non-uniform m(x): its values at the nodes identify the nodes."""
    return (np.cos(x[0] / 7e-9), np.sin(x[0] / 7e-9), 0.3 + x[1] / 20e-9)


def _sim(comm):
    mesh = femag.geometries.box(30 * NM, 10 * NM, 4 * NM, h=2 * NM, comm=comm)
    sim = femag.Simulation(mesh, MAT)
    sim.add(femag.Exchange(), femag.Zeeman((0, 0, 2e5)))
    sim.m = _m_of_x
    return sim


def _expected(sim):
    x = sim.node_coordinates().T
    m = np.array(_m_of_x(x)).T
    return m / np.linalg.norm(m, axis=1)[:, None]


def _shared_dir(comm, tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") if comm.rank == 0 else None
    return str(comm.bcast(path, root=0))


def test_round_trip_same_ranks(comm, mpi_tmp_path):
    sim = _sim(comm)
    sim.t = 1.25e-11
    folder = os.path.join(mpi_tmp_path, "ck")
    ck = Checkpointer(sim, folder, every=0.0, keep=2)
    state = {"stage": 1, "dt": 3.5e-14, "rng": [1, 2, 3]}
    path = ck.save(state)
    sim.m = (0, 0, 1)
    sim.t = 0.0
    assert checkpoint.restore(sim, path) == state
    assert sim.t == 1.25e-11
    assert np.abs(sim.nodal(sim.m, owned=False) - _expected(sim)).max() < 1e-14
    for _ in range(3):
        ck.save(state)
    names = comm.bcast(sorted(os.listdir(folder)) if comm.rank == 0 else None, root=0)
    assert names == ["ckpt_000002.h5", "ckpt_000003.h5"]  # keep=2, numbering continues
    assert checkpoint.latest(folder, comm).endswith("ckpt_000003.h5")


def test_restore_on_another_number_of_ranks(comm, mpi_tmp_path):
    """Written on one rank (COMM_SELF on rank 0), read on `comm`, and back: under
    mpirun -n 2 this is 1 → 2 and 2 → 1 ranks. The mesh is generated the same way on
    both communicators, so node i means the same point."""
    folder = os.path.join(mpi_tmp_path, "cross")
    path = None
    if comm.rank == 0:
        single = _sim(MPI.COMM_SELF)
        single.t = 2e-12
        path = Checkpointer(single, folder, every=0.0).save({"from": 1})
    path = comm.bcast(path, root=0)
    sim = _sim(comm)
    sim.m = (1, 0, 0)
    assert checkpoint.restore(sim, path) == {"from": 1} and sim.t == 2e-12
    assert np.abs(sim.nodal(sim.m, owned=False) - _expected(sim)).max() < 1e-14

    back = Checkpointer(sim, os.path.join(mpi_tmp_path, "back"), every=0.0).save({"from": comm.size})
    if comm.rank == 0:
        single = _sim(MPI.COMM_SELF)
        single.m = (0, 1, 0)
        checkpoint.restore(single, back)
        assert np.abs(single.nodal(single.m) - _expected(single)).max() < 1e-14
    comm.barrier()


def _latest_warning(comm, folder, match):
    """checkpoint.latest, expecting a warning matching `match` on rank 0 (which warns)."""
    if comm.rank != 0:
        return checkpoint.latest(folder, comm)
    with pytest.warns(RuntimeWarning, match=match):
        return checkpoint.latest(folder, comm)


def test_damaged_newest_checkpoint_falls_back_with_warning(comm, mpi_tmp_path):
    sim = _sim(comm)
    folder = os.path.join(mpi_tmp_path, "bad")
    ck = Checkpointer(sim, folder, every=0.0, keep=5)
    paths = [ck.save({"n": i}) for i in range(3)]
    if comm.rank == 0:  # truncate the newest, flip a value in the middle one
        with open(paths[2], "rb+") as f:
            f.truncate(os.path.getsize(paths[2]) // 2)
    comm.barrier()
    assert _latest_warning(comm, folder, "ckpt_000002.h5") == paths[1]
    if comm.rank == 0:
        with h5py.File(paths[1], "r+") as f:
            f["m"][0, 0] += 1e-6  # a silent bit error: only the checksum sees it
        with pytest.raises(CheckpointError, match="checksum"):
            checkpoint.read(paths[1])
    comm.barrier()
    found = _latest_warning(comm, folder, "checksum")
    assert found == paths[0]
    assert checkpoint.restore(sim, found) == {"n": 0}


def test_restore_rejects_another_mesh(comm, mpi_tmp_path):
    sim = _sim(comm)
    path = Checkpointer(sim, os.path.join(mpi_tmp_path, "other"), every=0.0).save()
    mesh = femag.geometries.box(20 * NM, 10 * NM, 4 * NM, h=2 * NM, comm=comm)
    other = femag.Simulation(mesh, MAT)
    with pytest.raises(CheckpointError, match="nodes"):
        checkpoint.restore(other, path)


def test_interval_and_bad_arguments(comm, mpi_tmp_path):
    sim = _sim(comm)
    ck = Checkpointer(sim, os.path.join(mpi_tmp_path, "slow"), every=3600.0)
    assert ck.maybe_save({}) is None and ck.saved == 0
    assert ck.save({}) is not None and ck.saved == 1
    with pytest.raises(ValueError, match="interval"):
        Checkpointer(sim, os.path.join(mpi_tmp_path, "x"), every=float("nan"))
    with pytest.raises(TypeError):
        ck.save({"not json": object()})


@pytest.mark.skip_in_parallel
def test_write_is_atomic(tmp_path, monkeypatch):
    """A failure between writing and renaming leaves no file under the final name (and
    no temporary file either)."""
    sim = _sim(MPI.COMM_SELF)
    folder = tmp_path / "atomic"
    ck = Checkpointer(sim, str(folder), every=0.0)
    first = ck.save({"n": 0})

    def broken_replace(src, dst):
        raise OSError("disk full (simulated)")
    monkeypatch.setattr(checkpoint.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        ck.save({"n": 1})
    monkeypatch.undo()
    assert sorted(os.listdir(folder)) == [os.path.basename(first)]
    assert checkpoint.latest(str(folder), MPI.COMM_SELF) == first


DRIVER = textwrap.dedent('''
    """Test driver: an LLG run saved every 2 ps and checkpointed at every save."""
    import sys
    from mpi4py import MPI
    import femag
    from femag import checkpoint
    from femag.output import Output

    folder, mode = sys.argv[1], sys.argv[2]
    comm = MPI.COMM_WORLD
    NM = 1e-9
    mesh = femag.geometries.box(40 * NM, 10 * NM, 4 * NM, h=2 * NM, comm=comm)
    sim = femag.Simulation(mesh, femag.Material(Ms=8e5, A=1.3e-11, alpha=0.05))
    sim.add(femag.Exchange(), femag.Zeeman((-1e5, 2e4, 0)))
    sim.m = lambda x: (1 + 0 * x[0], 0.2 + x[0] / 100e-9, 0.1 + 0 * x[0])
    options = {}
    if mode == "resume":
        state = checkpoint.restore(sim, checkpoint.latest(folder + "/checkpoints", comm))
        out = Output(sim, folder, resume=True, resume_time=sim.t)
        options.update(dt=state["dt"], save_start=False)
    else:
        out = Output(sim, folder)
    ck = checkpoint.Checkpointer(sim, folder + "/checkpoints", every=0.0, keep=3)
    sim.run(60e-12, save_every=2e-12, output=out, checkpoint=ck, verbose=False, **options)
    out.close()
    if comm.rank == 0:
        print("DONE", flush=True)
''')


def _table(folder):
    with open(os.path.join(folder, "table.csv")) as f:
        header = f.readline().strip().split(",")
        data = np.loadtxt(f, delimiter=",", ndmin=2)
    return header, data


def _final_m(folder):
    """m of the last ParaView step in input node order (independent of the ranks that
    wrote it: the folder keeps its first mesh file's node order)."""
    run = femag.load(folder)
    last = sorted(os.listdir(os.path.join(folder, "fields")))[-1]
    with h5py.File(os.path.join(folder, "fields", "mesh.h5"), "r") as f:
        order = f["input_index"][...]
    with h5py.File(os.path.join(folder, "fields", last), "r") as f:
        m = f["m"][...]
    out = np.empty_like(m)
    out[order] = m
    return run, out


@pytest.mark.skip_in_parallel
def test_kill_9_then_resume_on_two_ranks_matches_an_uninterrupted_run(tmp_path):
    """Run serially, SIGKILL once two checkpoints exist, damage the newest one, resume
    under mpirun -n 2: the table has the uninterrupted run's times (no duplicates, no
    gaps), the series the same steps, and the final m agrees within 1e-6 (the RK45
    tolerance is 1e-7 per step; the resumed run starts from the checkpoint's dt)."""
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMP_NUM_THREADS="1")
    reference = str(tmp_path / "reference")
    done = subprocess.run([sys.executable, str(driver), reference, "new"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert "DONE" in done.stdout, done.stderr[-2000:]

    killed = str(tmp_path / "killed")
    proc = subprocess.Popen([sys.executable, str(driver), killed, "new"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoints = os.path.join(killed, "checkpoints")
    deadline = time.time() + 60
    while time.time() < deadline:
        table = os.path.join(killed, "table.csv")
        if os.path.isfile(table) and open(table).read().count("\n") >= 7:  # header + 6 rows
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    header, rows = _table(killed)
    n_killed = len(rows)
    assert 3 <= n_killed < 31, f"killed too late or too early ({n_killed} rows)"
    newest = checkpoint._files(checkpoints)[-1]
    with open(newest, "rb+") as f:
        f.truncate(100)
    resumed = subprocess.run(["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", "2",
                              sys.executable, str(driver), killed, "resume"],
                             env=env, capture_output=True, text=True, timeout=120)
    assert "DONE" in resumed.stdout, resumed.stderr[-3000:]
    assert "skipping checkpoint" in resumed.stderr and os.path.basename(newest) in resumed.stderr

    ref_header, ref_rows = _table(reference)
    header, rows = _table(killed)
    assert header == ref_header
    t_ref, t = ref_rows[:, 0], rows[:, 0]
    assert len(t) == len(t_ref) == 31
    assert np.allclose(t, t_ref, rtol=1e-12, atol=1e-24)
    assert np.all(np.diff(t) > 0)
    m_cols = [header.index(c) for c in ("mx", "my", "mz")]
    assert np.abs(rows[:, m_cols] - ref_rows[:, m_cols]).max() < 1e-6

    run_ref, m_ref = _final_m(reference)
    run, m = _final_m(killed)
    assert len(run.times) == len(run_ref.times) == 31
    assert np.allclose(run.times, run_ref.times, rtol=1e-12)
    assert np.abs(m - m_ref).max() < 1e-6
    step_files = [n for n in os.listdir(os.path.join(killed, "fields")) if n.startswith("step_")]
    assert len(step_files) == 31
