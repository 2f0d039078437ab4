"""Run output: table.csv, XDMF/HDF5 series, info.json, PNGs, reading back, kill safety.

A 20 × 10 × 5 nm box (h = 2.5 nm) with exchange and a Zeeman field; m is set to known
analytic textures, so every saved array can be checked against its formula at the saved
node coordinates (P1 interpolation is exact at the nodes).
"""
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import h5py
import meshio
import numpy as np
import pytest
from mpi4py import MPI

import femag
import femag.plot
from femag.load import load, read_table
from femag.output import Output

MS, A, H = 8e5, 1.3e-11, (1e4, 0.0, 0.0)
K = 2 * np.pi / 40e-9  # wave number of the test helix (1/m)


def helix(phase=0.0):
    """m(x) rotating in the xy plane along x; phase in rad."""
    return lambda x: np.array([np.cos(K * x[0] + phase), np.sin(K * x[0] + phase), 0 * x[0]])


def helix_at(points, phase=0.0):
    a = K * points[:, 0] + phase
    return np.column_stack([np.cos(a), np.sin(a), 0 * a])


def make_sim(comm):
    mesh = femag.geometries.box(20e-9, 10e-9, 5e-9, h=2.5e-9, comm=comm)
    sim = femag.Simulation(mesh, femag.Material(Ms=MS, A=A))
    sim.add(femag.Exchange() + femag.Zeeman(H=H))
    return sim


@pytest.fixture(scope="module")
def sim(comm):
    return make_sim(comm)


def write_steps(sim, folder, n=3, **kwargs):
    out = Output(sim, folder, **kwargs)
    for i in range(n):
        sim.t = i * 1e-12
        sim.m = helix(0.3 * i)
        out.write(extra={"dt [s]": 1e-13 * (i + 1)})
    out.close()
    return out


def test_table_header_units_and_rows(sim, mpi_tmp_path):
    out = write_steps(sim, mpi_tmp_path, fields=("exchange",))
    assert sorted(os.listdir(mpi_tmp_path)) == ["fields", "fields.xdmf", "info.json", "log.txt",
                                                 "table.csv"]
    with open(os.path.join(mpi_tmp_path, "table.csv")) as f:
        lines = f.read().splitlines()
    assert lines[0] == ("t [s],mx,my,mz,E_total [J],E_exchange [J],E_zeeman [J],"
                        "max_torque [A/m],dt [s]")
    assert len(lines) == 4 and all(len(line.split(",")) == 9 for line in lines)
    table = read_table(os.path.join(mpi_tmp_path, "table.csv"))
    np.testing.assert_array_equal(table["t [s]"], [0.0, 1e-12, 2e-12])
    np.testing.assert_array_equal(table["dt [s]"], [1e-13 * (i + 1) for i in range(3)])
    # the last row is the current state, read back to the last bit
    assert table["mx"][-1] == sim.m_average()[0]
    e = sim.energies()
    assert table["E_total [J]"][-1] == e["total"]
    assert table["E_exchange [J]"][-1] == e["exchange"]
    assert table["max_torque [A/m]"][-1] == sim.torque()
    # exchange energy of the helix: A k² V (box volume 1e-24 m³), FE error O(h²)
    assert table["E_exchange [J]"][-1] == pytest.approx(A * K**2 * 1e-24, rel=0.05)
    assert out.n_saves == 3


def test_series_arrays_shapes_and_times(sim, mpi_tmp_path):
    write_steps(sim, mpi_tmp_path, fields=("H_exchange", "H_eff"))
    n_nodes = sim.comm.allreduce(sim.n_owned, op=MPI.SUM)
    n_cells = sim.comm.allreduce(sim.mesh.mesh.topology.index_map(3).size_local, op=MPI.SUM)
    xdmf = os.path.join(mpi_tmp_path, "fields.xdmf")
    with meshio.xdmf.TimeSeriesReader(xdmf) as reader:
        points, cells = reader.read_points_cells()
        assert points.shape == (n_nodes, 3) and cells[0].type == "tetra"
        assert cells[0].data.shape == (n_cells, 4)
        assert reader.num_steps == 3
        for k in range(3):
            t, point_data, cell_data = reader.read_data(k)
            assert t == k * 1e-12
            assert sorted(point_data) == sorted(["m", "M", "|m|", "H_exchange", "H_eff"])
            assert all(point_data[n].shape == (n_nodes, 3) for n in ("m", "M", "H_eff"))
            np.testing.assert_allclose(point_data["m"], helix_at(points, 0.3 * k), atol=1e-12)
            np.testing.assert_allclose(point_data["M"], MS * point_data["m"], rtol=1e-12)
            np.testing.assert_allclose(point_data["|m|"], 1.0, rtol=1e-12)
            assert cell_data["region"][0].shape == (n_cells,)
            assert set(cell_data["region"][0]) == {sim.mesh.regions["magnet"]}
    # the same with h5py, and the mesh is referenced, not copied, per step
    with h5py.File(os.path.join(mpi_tmp_path, "fields", "step_000002.h5"), "r") as f:
        assert sorted(f) == ["H_eff", "H_exchange", "M", "m", "m_norm"]
        assert f["m"].shape == (n_nodes, 3) and f["m"].dtype == np.float64
    with h5py.File(os.path.join(mpi_tmp_path, "fields", "mesh.h5"), "r") as f:
        assert f["geometry"].shape == (n_nodes, 3) and f["topology"].shape == (n_cells, 4)
    # the exchange field of a helix: (2A/μ0Ms)∇²m = −(2A k²/μ0 Ms) m away from the ends
    run = load(mpi_tmp_path)
    h = run.array("H_exchange")
    inner = np.abs(run.points()[:, 0]) < 7.5e-9  # away from the x ends (where ∂m/∂n ≠ 0)
    expected = -2 * A * K**2 / (femag.MU0 * MS)
    ratio = np.einsum("ij,ij->i", h[inner], run.array("m")[inner]) / expected
    assert np.median(ratio) == pytest.approx(1.0, rel=0.05)


def test_load_mesh_table_and_restore(sim, mpi_tmp_path):
    write_steps(sim, mpi_tmp_path)
    run = femag.load(mpi_tmp_path)
    np.testing.assert_array_equal(run.times, [0.0, 1e-12, 2e-12])
    assert run.column("t") is run.table["t [s]"] and len(run) == 3
    grid = run.mesh(1)
    assert grid.n_points == len(run.points()) and grid.n_cells == len(run.array("region"))
    np.testing.assert_allclose(grid.point_data["m"], helix_at(np.asarray(grid.points), 0.3),
                               atol=1e-12)
    assert grid.field_data["time [s]"][0] == 1e-12
    assert set(grid.cell_data) >= {"region"} and set(grid.point_data) >= {"m", "M", "|m|"}
    sim.m = (0.0, 0.0, 1.0)
    run.restore(sim, step=1)
    assert sim.t == 1e-12
    np.testing.assert_allclose(sim.nodal(sim.m), helix_at(sim.node_coordinates()[: sim.n_owned],
                                                          0.3), atol=1e-12)
    with pytest.raises(IndexError, match="out of range"):
        run.mesh(7)


def test_info_json_and_log(sim, mpi_tmp_path):
    out = Output(sim, mpi_tmp_path, fields="exchange")
    with open(os.path.join(mpi_tmp_path, "info.json")) as f:
        info = json.load(f)
    assert info["success"] is None and info["end"] is None  # a killed run says so
    assert info["versions"]["dolfinx"] == femag.compat.DOLFINX_VERSION
    assert {"femag", "petsc", "petsc4py", "numpy", "python"} <= set(info["versions"])
    assert info["materials"]["magnet"]["Ms"] == MS and info["materials"]["magnet"]["A"] == A
    assert info["terms"] == [repr(t) for t in sim.terms] and info["fields"] == ["H_exchange"]
    assert info["ranks"] == sim.comm.size
    out.write()
    out.close(success=False)
    with open(os.path.join(mpi_tmp_path, "info.json")) as f:
        info = json.load(f)
    assert info["success"] is False and info["saves"] == 1 and info["end"]
    with open(os.path.join(mpi_tmp_path, "log.txt")) as f:
        assert len(f.read().splitlines()) == 3  # opened, one save, closed
    with pytest.raises(RuntimeError, match="closed"):
        out.write()


def test_never_overwrite_silently(sim, mpi_tmp_path):
    write_steps(sim, mpi_tmp_path, n=1)
    if sim.comm.rank == 0:
        with open(os.path.join(mpi_tmp_path, "notes.txt"), "w") as f:
            f.write("mine")
    sim.comm.barrier()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        Output(sim, mpi_tmp_path)
    write_steps(sim, mpi_tmp_path, n=2, overwrite=True)
    assert len(femag.load(mpi_tmp_path)) == 2
    assert os.path.exists(os.path.join(mpi_tmp_path, "notes.txt"))  # not femag's: kept


def test_bad_input(sim, mpi_tmp_path):
    with pytest.raises(ValueError, match="unknown output field 'demag'"):
        Output(sim, mpi_tmp_path, fields=("demag",))
    out = Output(sim, os.path.join(mpi_tmp_path, "a"))
    out.write(extra={"dt [s]": 1e-13})
    with pytest.raises(ValueError, match="columns changed"):
        out.write()
    with pytest.raises(ValueError, match="clashes"):
        Output(sim, os.path.join(mpi_tmp_path, "b")).write(extra={"mx": 1.0})
    with pytest.raises(FileNotFoundError):
        femag.load(os.path.join(mpi_tmp_path, "missing"))


def test_sim_save_appends_and_temperature_column(sim, mpi_tmp_path):
    folder = os.path.join(mpi_tmp_path, "run")
    original = sim.temperature
    try:
        sim.temperature = None  # present but None: no column
        sim.t = 0.0
        sim.save(folder)
        sim.t = 5e-12
        sim.save(folder)  # the same folder: appended to the same series
        run = femag.load(folder)
        assert len(run) == 2 and list(run.column("t")) == [0.0, 5e-12]
        assert "T [K]" not in run.table
        sim.temperature = lambda t: 300.0 + t * 1e12  # K, as an LLB run would carry
        out = Output(sim, os.path.join(mpi_tmp_path, "hot"))
        assert out.write()["T [K]"] == pytest.approx(305.0)
    finally:
        sim._output = None
        sim.temperature = original


def test_llb_norm_column_and_series(comm, mpi_tmp_path):
    """LLB: |m| = M/Ms(0) varies; ⟨|m|⟩ is a column and |m| a ParaView array."""
    mesh = femag.geometries.box(10e-9, 10e-9, 5e-9, h=2.5e-9, comm=comm)
    sim = femag.Simulation(mesh, femag.Material(Ms=MS, A=A, Tc=600.0, llb_lambda=0.01),
                           equation="llb")
    sim.add(femag.Exchange())
    # |m| = 0.2 + 0.6 (x + 5 nm)/10 nm, linear in x, so its volume average is 0.5 exactly
    sim.m = lambda x: np.array([0.2 + 0.6 * (x[0] + 5e-9) / 1e-8, 0 * x[0], 0 * x[0]])
    row = Output(sim, mpi_tmp_path).write()
    assert list(row)[:5] == ["t [s]", "mx", "my", "mz", "m_norm"]
    assert row["m_norm"] == pytest.approx(0.5, rel=1e-12)
    run = femag.load(mpi_tmp_path)
    np.testing.assert_allclose(run.array("|m|"), 0.2 + 0.6 * (run.points()[:, 0] + 5e-9) / 1e-8,
                               rtol=1e-12)
    np.testing.assert_allclose(run.array("M")[:, 0], MS * run.array("|m|"), rtol=1e-12)


def test_two_regions_columns_and_nodal_M(comm, mpi_tmp_path):
    mesh = femag.geometries.layers(10e-9, 10e-9, [2.5e-9, 2.5e-9], ["bottom", "top"],
                                   h=2.5e-9, comm=comm)
    materials = {"bottom": femag.Material(Ms=4e5, A=A), "top": femag.Material(Ms=8e5, A=A)}
    sim = femag.Simulation(mesh, materials)
    sim.add(femag.Exchange())
    out = Output(sim, mpi_tmp_path)
    sim.m = (0.0, 0.0, 1.0)
    out.write()
    sim.m = lambda x: np.array([1.0 + 0 * x[0], 0 * x[0], x[2] / 2.5e-9])
    row = out.write()
    assert list(row)[-6:] == ["mx_bottom", "my_bottom", "mz_bottom", "mx_top", "my_top", "mz_top"]
    run = femag.load(mpi_tmp_path)
    np.testing.assert_allclose(run.column("mz_top"), [1.0, sim.m_average("top")[2]], rtol=1e-12)
    np.testing.assert_allclose(run.column("mz_bottom"), [1.0, sim.m_average("bottom")[2]],
                               rtol=1e-12)
    assert run.column("mz_top")[1] > 0.3 and run.column("mz_bottom")[1] < -0.3
    z, M = run.points()[:, 2], run.array("M", step=0)
    np.testing.assert_allclose(M[z > 1e-10, 2], 8e5)
    np.testing.assert_allclose(M[z < -1e-10, 2], 4e5)
    # interface nodes: Ms averaged over the cells around the node, between the two sides
    interface = M[np.abs(z) < 1e-10, 2]
    assert np.all((interface > 4e5) & (interface < 8e5))
    assert sorted(set(run.array("region"))) == sorted(mesh.regions.values())
    assert sorted(run.info["materials"]) == ["bottom", "top"]


def test_pngs(sim, mpi_tmp_path):
    sim.t = 0.0
    sim.m = helix()
    name = os.path.join(mpi_tmp_path, "sim.png")
    femag.plot.snapshot(sim, name, kind="glyphs", component="mz")  # collective
    write_steps(sim, os.path.join(mpi_tmp_path, "run"), n=2)
    if sim.comm.rank == 0:
        run = femag.load(os.path.join(mpi_tmp_path, "run"))
        names = [run.snapshot(os.path.join(mpi_tmp_path, f"{kind}.png"), kind=kind,
                              component=c)
                 for kind, c in (("surface", "mx"), ("slice", "|m|"), ("glyphs", "region"))]
        names.append(run.plot_table(os.path.join(mpi_tmp_path, "table.png")))
        for n in [name] + names:
            with open(n, "rb") as f:
                assert f.read(8) == b"\x89PNG\r\n\x1a\n"
            assert os.path.getsize(n) > 5000
        with pytest.raises(ValueError, match="unknown component"):
            run.snapshot(os.path.join(mpi_tmp_path, "x.png"), component="q")
        with pytest.raises(ValueError, match="kind must be"):
            run.snapshot(os.path.join(mpi_tmp_path, "x.png"), kind="volume")


def test_same_files_on_one_and_all_ranks(sim, comm, mpi_tmp_path):
    """The same run written by every rank together and by rank 0 alone."""
    write_steps(sim, os.path.join(mpi_tmp_path, "all"), fields=("exchange",))
    if comm.rank == 0:
        alone = make_sim(MPI.COMM_SELF)
        write_steps(alone, os.path.join(mpi_tmp_path, "one"), fields=("exchange",))
    comm.barrier()
    a, b = femag.load(os.path.join(mpi_tmp_path, "all")), femag.load(os.path.join(mpi_tmp_path, "one"))
    assert list(a.table) == list(b.table)
    for name in a.table:
        # summation order differs between partitions: agreement to rounding
        np.testing.assert_allclose(a.table[name], b.table[name], rtol=1e-12,
                                   atol=1e-13 * np.abs(b.table[name]).max(), err_msg=name)
    # the same nodes in another order: sort by coordinates rounded to 1e-13 m
    order_a, order_b = (np.lexsort(np.rint(r.points() / 1e-13).T) for r in (a, b))
    np.testing.assert_allclose(a.points()[order_a], b.points()[order_b], rtol=0, atol=1e-20)
    for name in ("m", "M", "H_exchange"):
        np.testing.assert_allclose(a.array(name)[order_a], b.array(name)[order_b],
                                   rtol=1e-10, atol=1e-6 * np.abs(b.array(name)).max())


WRITER = """
import sys
import numpy as np
import femag
from femag.output import Output
mesh = femag.geometries.box(20e-9, 10e-9, 5e-9, h=2.5e-9)
sim = femag.Simulation(mesh, femag.Material(Ms=8e5, A=1.3e-11))
sim.add(femag.Exchange())
out = Output(sim, sys.argv[1], fields=("exchange",))
for i in range(100000):
    sim.t = i * 1e-12
    sim.m = lambda x: np.array([np.cos(1e8 * x[0] + 0.01 * i), np.sin(1e8 * x[0] + 0.01 * i), 0 * x[0]])
    out.write(extra={"dt [s]": 1e-12})
"""


@pytest.mark.skip_in_parallel
def test_killed_run_keeps_complete_steps(tmp_path):
    folder = str(tmp_path / "killed")
    env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, folder], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    table = os.path.join(folder, "table.csv")
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if os.path.exists(table) and os.path.getsize(table) > 3000:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the writer ended before it could be killed"
        time.sleep(0.137)  # somewhere inside a save
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with open(table) as f:
        text = f.read()
    assert text.endswith("\n")
    lines = text.splitlines()
    assert all(len(line.split(",")) == len(lines[0].split(",")) for line in lines)
    rows = len(lines) - 1
    ET.parse(os.path.join(folder, "fields.xdmf"))  # well-formed XML
    run = femag.load(folder)
    # the table row is written after its ParaView step: the series has the same steps
    # or one more (killed between the two)
    assert rows >= 10 and len(run) in (rows, rows + 1)
    np.testing.assert_array_equal(run.times[:rows], run.column("t"))
    with meshio.xdmf.TimeSeriesReader(os.path.join(folder, "fields.xdmf")) as reader:
        reader.read_points_cells()
        for k in range(reader.num_steps):  # every listed step file is complete
            t, point_data, _ = reader.read_data(k)
            assert np.all(np.isfinite(point_data["H_exchange"]))
    assert run.info["success"] is None
