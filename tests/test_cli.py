"""The femag command: runs of config files end to end (physics checked against the
macrospin solution of the LLG equation), folder rules, quiet mode, mesh/info/plot."""
import copy
import math
import os

import numpy as np
import pytest
from mpi4py import MPI

import femag
from femag.cli import main
from femag.config import dumps
from femag.load import Run

GAMMA = 2.211e5  # m/(A s)
MU0 = 4e-7 * math.pi

MACROSPIN = {
    "name": "macrospin",
    "geometry": {"builder": "box", "lx": "10 nm", "ly": "10 nm", "lz": "5 nm", "h": "5 nm"},
    "materials": {"magnet": {"Ms": "800 kA/m", "A": "13 pJ/m", "alpha": 0.1}},
    "terms": {"exchange": True, "zeeman": {"H": [0, 0, "100 mT"]}},
    "initial": {"kind": "uniform", "direction": [1, 0, 0]},
    "stages": [{"kind": "run", "duration": "40 ps", "save_every": "5 ps", "rtol": 1e-8,
                "atol": 1e-8}],
}


def write_config(comm, folder, data, name="problem.toml"):
    path = os.path.join(folder, name)
    if comm.rank == 0:
        with open(path, "w") as f:
            f.write(dumps(data))
    comm.barrier()
    return path


def macrospin(t, H, alpha):
    """Uniform m(0) = x in H ẑ: the LLG solution m = (cos φ sech u, sin φ sech u, tanh u)
    with φ = γHt/(1+α²), u = αγHt/(1+α²)."""
    phi = GAMMA * H * t / (1 + alpha ** 2)
    u = alpha * phi
    return np.array([np.cos(phi) / np.cosh(u), np.sin(phi) / np.cosh(u), np.tanh(u)])


def test_run_matches_macrospin_llg(comm, mpi_tmp_path, capsys):
    path = write_config(comm, mpi_tmp_path, MACROSPIN)
    assert main(["run", path]) == 0
    run = Run(os.path.join(mpi_tmp_path, "problem.out"))
    t = run.column("t")
    assert np.allclose(t, np.arange(9) * 5e-12, rtol=0, atol=1e-20)
    expected = macrospin(t, 0.1 / MU0, 0.1)  # "100 mT" is μ0H
    got = np.array([run.column("mx"), run.column("my"), run.column("mz")])
    assert np.max(np.abs(got - expected)) < 1e-5
    # a wrong unit conversion (H = 100e-3 A/m or γ in rad/(s T)) would be off by O(1)
    assert expected[1, -1] > 0.6 and expected[2, -1] > 0.04
    out = capsys.readouterr().out
    if comm.rank == 0:
        assert "ETA" in out and "max|m x H|" in out and out.count("[1/1 0-run]") == 9
        log = open(os.path.join(mpi_tmp_path, "problem.out", "femag.log")).read()
        assert log.count("[1/1 0-run]") == 9 and "success=True" in log


def test_existing_folder_needs_overwrite_and_quiet_prints_nothing(comm, mpi_tmp_path, capsys):
    data = copy.deepcopy(MACROSPIN)
    data["stages"] = [{"kind": "minimize"}]
    data["output"] = {"folder": "result"}
    path = write_config(comm, mpi_tmp_path, data)
    assert main(["run", path, "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert main(["run", path, "-q"]) == 2
    err = capsys.readouterr().err
    if comm.rank == 0:
        assert err.startswith("femag: error: output folder") and "--overwrite" in err
        assert "Traceback" not in err
    assert main(["--debug", "run", path, "-q"]) == 2  # the traceback only on request
    if comm.rank == 0:
        assert "Traceback" in capsys.readouterr().err
    assert main(["run", path, "-q", "--overwrite"]) == 0
    assert main(["run", path, "-q", "--overwrite", "--resume"]) == 2  # argparse: exclusive
    assert len(Run(os.path.join(mpi_tmp_path, "result")).column("t")) == 1
    capsys.readouterr()
    a_file = os.path.join(mpi_tmp_path, "result", "table.csv")
    for out in (a_file, os.path.join(a_file, "below")):  # not folders: exit 2, one line
        assert main(["run", path, "-q", "--out", out]) == 2
        err = capsys.readouterr().err
        if comm.rank == 0:
            assert err.startswith("femag: error: ") and "Traceback" not in err


def test_stages_fields_and_energies(comm, mpi_tmp_path):
    """minimize in a field along +y, then a run stage in a new field: the minimize row is
    the run's first row (not written twice); E_zeeman = −μ0 Ms V ⟨m⟩·H in each stage."""
    data = copy.deepcopy(MACROSPIN)
    data["terms"] = {"exchange": True}
    data["stages"] = [
        {"kind": "minimize", "field": [0, "50 mT", 0], "tol": "0.1 A/m"},
        {"kind": "run", "field": ["20 mT", 0, 0], "duration": "10 ps", "save_every": "5 ps"},
        {"kind": "minimize", "name": "final", "tol": "1 A/m"}]
    path = write_config(comm, mpi_tmp_path, data)
    assert main(["run", path, "-q", "--out", os.path.join(mpi_tmp_path, "o")]) == 0
    run = Run(os.path.join(mpi_tmp_path, "o"))
    t = run.column("t")
    assert np.allclose(t, [0, 5e-12, 1e-11, 1e-11], atol=1e-20)
    assert run.column("my")[0] == pytest.approx(1.0, abs=1e-6)
    volume = 10e-9 * 10e-9 * 5e-9
    H = 20e-3 / MU0
    e_zeeman = run.table["E_zeeman [J]"]
    assert e_zeeman[0] == pytest.approx(-MU0 * 8e5 * volume * run.column("mx")[0] * H, rel=1e-9,
                                        abs=1e-30)
    assert e_zeeman[-1] == pytest.approx(-MU0 * 8e5 * volume * H, rel=1e-6)  # m ∥ final H
    assert run.column("mx")[-1] == pytest.approx(1.0, abs=1e-6)


def test_bad_material_region_in_mesh_file_leaves_no_folder(comm, mpi_tmp_path, capsys):
    msh = os.path.join(mpi_tmp_path, "box.msh")
    assert main(["mesh", "box", "--lx", "10 nm", "--ly", "10 nm", "--lz", "5 nm",
                 "--h", "5 nm", "--name", "core", "-o", msh, "-q"]) == 0
    data = copy.deepcopy(MACROSPIN)
    data["geometry"] = {"file": "box.msh"}
    path = write_config(comm, mpi_tmp_path, data)
    out = os.path.join(mpi_tmp_path, "never")
    assert main(["run", path, "--out", out]) == 2
    err = capsys.readouterr().err
    assert not os.path.exists(out)
    if comm.rank == 0:
        assert "materials.magnet: the mesh has no region 'magnet'; its regions: core" in err
    assert main(["check", path]) == 2
    # with the region renamed the written mesh runs and gives the builder's volume
    data["materials"] = {"core": data["materials"]["magnet"]}
    data["stages"] = [{"kind": "minimize"}]
    path = write_config(comm, mpi_tmp_path, data)
    assert main(["check", path]) == 0
    assert main(["run", path, "-q", "--out", out]) == 0
    info = Run(out).info
    assert info["mesh"]["volume [m^3]"] == pytest.approx(5e-25, rel=1e-9)
    assert info["mesh"]["regions"] == {"core": 1}


@pytest.mark.skip_in_parallel
def test_info_and_plot(mpi_tmp_path, capsys):
    data = copy.deepcopy(MACROSPIN)
    data["stages"][0].update(duration="10 ps")
    path = write_config(MPI.COMM_WORLD, mpi_tmp_path, data)
    assert main(["run", path, "-q"]) == 0
    folder = os.path.join(mpi_tmp_path, "problem.out")
    capsys.readouterr()
    assert main(["info", folder]) == 0
    text = capsys.readouterr().out
    assert "finished" in text and "3 rows" in text and "t = 0 .. 1e-11 s" in text
    assert main(["plot", folder]) == 0
    for name in ("table.png", "snapshot.png"):
        assert os.path.getsize(os.path.join(folder, "plots", name)) > 1000
    assert main(["info", os.path.join(mpi_tmp_path, "nothing")]) == 2
    assert "no output folder" in capsys.readouterr().err



def test_failed_stage_exits_1_and_marks_the_run(comm, mpi_tmp_path, capsys):
    """A minimiser that runs out of iterations: exit 1, one error line, info success false."""
    data = copy.deepcopy(MACROSPIN)
    data["stages"] = [{"kind": "minimize", "max_iterations": 1, "tol": "1e-3 A/m"}]
    path = write_config(comm, mpi_tmp_path, data)
    assert main(["run", path, "-q"]) == 1
    err = capsys.readouterr().err
    if comm.rank == 0:
        assert err.startswith("femag: error: run failed: minimize did not converge")
        assert "Traceback" not in err
    assert Run(os.path.join(mpi_tmp_path, "problem.out")).info["success"] is False


KILL = {
    "name": "kill",
    "geometry": {"builder": "box", "lx": "20 nm", "ly": "10 nm", "lz": "5 nm", "h": "5 nm"},
    "materials": {"magnet": {"Ms": "800 kA/m", "A": "13 pJ/m", "alpha": 0.02,
                             "Ku": "0.2 MJ/m3", "axis": [0, 1, 0]}},
    "terms": {"exchange": True, "anisotropy": True, "zeeman": {"H": ["25 mT", 0, 0]}},
    "initial": {"kind": "random", "seed": 1},  # rich dynamics without the cost of demag
    "stages": [{"kind": "run", "duration": "0.3 ns", "save_every": "10 ps"},
               {"kind": "run", "duration": "50 ps", "save_every": "10 ps",
                "field": [0, "25 mT", 0]}],
    "output": {"checkpoint_every": "0.3 s"},
}


def _femag(*args, ranks=1):
    """`python -m femag ...` in a new process (under `mpirun -n ranks` if ranks > 1)."""
    import shutil
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_"))}
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    command = [sys.executable, "-m", "femag", *args]
    if ranks > 1:
        command = [shutil.which("mpirun"), "--allow-run-as-root", "--oversubscribe", "-n",
                   str(ranks)] + command
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _rows(folder):
    try:
        with open(os.path.join(folder, "table.csv")) as f:
            return max(0, len(f.read().splitlines()) - 1)
    except FileNotFoundError:
        return 0


@pytest.mark.skip_in_parallel
def test_kill_9_then_resume_matches_an_uninterrupted_run(tmp_path):
    """SIGKILL a serial run after its checkpoints began, corrupt the newest checkpoint,
    --resume on 2 ranks: the previous checkpoint is used (with a warning), and the table
    (times, ⟨m⟩) and the final m equal an uninterrupted run's to the integrator
    tolerance, with no duplicated or missing rows."""
    import signal
    import time
    path = tmp_path / "kill.toml"
    path.write_text(dumps(KILL))
    killed, full = str(tmp_path / "killed"), str(tmp_path / "full")
    proc = _femag("run", str(path), "--out", killed, "-q")
    checkpoints = os.path.join(killed, "checkpoints")
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        n = len(os.listdir(checkpoints)) if os.path.isdir(checkpoints) else 0
        if n >= 2 and _rows(killed) >= 8:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    rows_at_kill = _rows(killed)
    assert 0 < rows_at_kill < 37
    newest = max((os.path.join(checkpoints, n) for n in os.listdir(checkpoints)
                  if not n.endswith(".tmp")), key=os.path.getmtime)
    targets = [os.path.join(newest, n) for n in os.listdir(newest)] \
        if os.path.isdir(newest) else [newest]
    for target in targets:  # cut every file of the newest checkpoint in half
        size = os.path.getsize(target)
        with open(target, "r+b") as f:
            f.truncate(size // 2)
    again = _femag("run", str(path), "--out", killed, "--resume", "-q", ranks=2)
    out, err = again.communicate(timeout=120)  # (MPI ranks spin: nothing else beside them)
    assert again.returncode == 0, err
    assert "warn" in err.lower()
    reference = _femag("run", str(path), "--out", full, "-q")
    assert reference.communicate(timeout=120)[0] == "" and reference.returncode == 0
    a, b = Run(killed), Run(full)
    assert np.allclose(a.column("t"), b.column("t"), rtol=1e-12, atol=0)  # no duplicated
    # or missing rows
    assert len(a.column("t")) == 37  # 31 + 6 rows
    for name in ("mx", "my", "mz"):
        assert np.max(np.abs(a.column(name) - b.column(name))) < 1e-5
    assert np.max(np.abs(a.array("m", -1) - b.array("m", -1))) < 1e-5
    assert a.info["success"] is True and len(a) == len(b)


def test_llb_stage_temperatures_reach_mean_field_equilibrium(comm, mpi_tmp_path):
    """LLB through the CLI: the stage temperature reaches the table (T [K]) and |m| relaxes
    to the mean-field m_e(T) of each stage (zero field, uniform: no other energy)."""
    data = {"name": "llb", "equation": "llb", "temperature": "300 K",
            "geometry": {"builder": "box", "lx": "10 nm", "ly": "10 nm", "lz": "5 nm",
                         "h": "5 nm"},
            "materials": {"magnet": {"Ms": "800 kA/m", "A": "10 pJ/m", "alpha": 0.1,
                                     "Tc": "650 K", "llb_lambda": 0.05}},
            "terms": {"exchange": True},
            "initial": {"kind": "uniform", "direction": [0, 0, 1]},
            "stages": [{"kind": "run", "duration": "10 ps", "save_every": "5 ps"},
                       {"kind": "run", "temperature": "600 K", "duration": "20 ps",
                        "save_every": "5 ps"}]}
    path = write_config(comm, mpi_tmp_path, data)
    out = os.path.join(mpi_tmp_path, "llb")
    assert main(["run", path, "-q", "--out", out]) == 0
    run = Run(out)
    material = femag.Material(Ms=8e5, A=1e-11, alpha=0.1, Tc=650.0, llb_lambda=0.05)
    T, m_norm = run.table["T [K]"], run.column("m_norm")
    assert list(T) == [300.0] * 3 + [600.0] * 5  # the stage boundary appears twice
    assert m_norm[2] == pytest.approx(femag.mean_field.equilibrium_m(300.0, material), abs=1e-4)
    assert m_norm[-1] == pytest.approx(femag.mean_field.equilibrium_m(600.0, material), abs=1e-4)
    assert m_norm[3] > 0.8 > 0.4 > m_norm[-1]  # starts at m_e(300 K), ends near 0.35


def test_initial_state_from_a_previous_run(comm, mpi_tmp_path):
    """[initial] kind = "file": the last saved m of another run folder, t back to 0."""
    first = copy.deepcopy(MACROSPIN)
    first["stages"][0].update(duration="10 ps")
    write_config(comm, mpi_tmp_path, first, "first.toml")
    assert main(["run", os.path.join(mpi_tmp_path, "first.toml"), "-q"]) == 0
    second = copy.deepcopy(MACROSPIN)
    second["initial"] = {"kind": "file", "folder": "first.out"}
    second["stages"][0].update(duration="5 ps", save_every="5 ps")
    write_config(comm, mpi_tmp_path, second, "second.toml")
    assert main(["run", os.path.join(mpi_tmp_path, "second.toml"), "-q"]) == 0
    a, b = Run(os.path.join(mpi_tmp_path, "first.out")), Run(os.path.join(mpi_tmp_path,
                                                                          "second.out"))
    assert b.column("t")[0] == 0.0
    for name in ("mx", "my", "mz"):
        assert b.column(name)[0] == pytest.approx(a.column(name)[-1], abs=1e-12)
    # the continuation equals the first run's solution at 15 ps (uniform: macrospin)
    expected = macrospin(15e-12, 0.1 / MU0, 0.1)
    assert np.max(np.abs([b.column(n)[-1] for n in ("mx", "my", "mz")] - expected)) < 1e-5


@pytest.mark.skip_in_parallel
def test_config_copy_and_changed_config_warning(tmp_path, capsys):
    """The run folder keeps config.toml; resuming with an edited config warns."""
    data = copy.deepcopy(MACROSPIN)
    data["stages"] = [{"kind": "minimize"}]
    path = tmp_path / "p.toml"
    path.write_text(dumps(data))
    assert main(["run", str(path), "-q"]) == 0
    folder = tmp_path / "p.out"
    assert (folder / "config.toml").read_text() == path.read_text()
    data["stages"][0]["tol"] = "0.5 A/m"
    path.write_text(dumps(data))
    capsys.readouterr()
    assert main(["run", str(path), "-q", "--resume"]) == 0  # every stage had finished
    assert "femag: warning:" in capsys.readouterr().err
    assert main(["info", str(folder)]) == 0
    assert "config: config.toml, stages: minimize" in capsys.readouterr().out
