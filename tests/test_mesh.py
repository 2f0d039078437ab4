"""femag.mesh: loading .msh files (units, tags, errors), generate(), the mesh summary.

The .msh files are written on rank 0 with gmsh (drawn in nm, saved in nm or — with
gmsh's Mesh.ScalingFactor — in metres) and read back on every rank.
"""
import io
import os

import numpy as np
import pytest
from mpi4py import MPI

import femag.geometries as geo
from femag import mesh as fm
from femag.mesh import MeshError

NM = 1e-9
# two boxes 20 × 10 × 10 nm side by side along x, sharing the face x = 0
VOL_LEFT = VOL_RIGHT = 20 * 10 * 10 * NM**3


def write_msh(comm, path, *, scale=1.0, dim=3, volume_groups=True, surface_group=False,
              order=1):
    """On rank 0: draw two touching boxes (nm), mesh them, save to `path`; then barrier."""
    if comm.rank == 0:
        with fm.gmsh_session() as gmsh:
            gmsh.model.add("two_boxes")
            occ = gmsh.model.occ
            a = occ.addBox(-20, -5, -5, 20, 10, 10)
            b = occ.addBox(0, -5, -5, 20, 10, 10)
            occ.fragment([(3, a)], [(3, b)])
            occ.synchronize()
            if volume_groups:
                gmsh.model.addPhysicalGroup(3, [a], 7)
                gmsh.model.setPhysicalName(3, 7, "left")
                gmsh.model.addPhysicalGroup(3, [b], 9)
                gmsh.model.setPhysicalName(3, 9, "right")
            if surface_group:
                surfaces = [t for _, t in gmsh.model.getBoundary([(3, a), (3, b)], oriented=False)]
                gmsh.model.addPhysicalGroup(2, surfaces, 1)
            gmsh.option.setNumber("Mesh.CharacteristicLengthMax", 4.0)
            gmsh.model.mesh.generate(dim)
            if order != 1:
                gmsh.model.mesh.setOrder(order)
            gmsh.option.setNumber("Mesh.ScalingFactor", scale)
            gmsh.write(path)
            gmsh.option.setNumber("Mesh.ScalingFactor", 1.0)
            gmsh.model.remove()
    comm.barrier()
    return path


def region_volume(mesh, name):
    from test_geometries import region_volumes
    return region_volumes(mesh)[name]


def test_load_metres_keeps_tags(comm, mpi_tmp_path):
    path = write_msh(comm, os.path.join(mpi_tmp_path, "boxes_m.msh"), scale=NM)
    mesh = fm.load(path, comm=comm)
    assert mesh.regions == {"left": 7, "right": 9}
    assert region_volume(mesh, "left") == pytest.approx(VOL_LEFT, rel=1e-9)
    assert region_volume(mesh, "right") == pytest.approx(VOL_RIGHT, rel=1e-9)
    assert mesh.region_tag("right") == 9 and mesh.region_tag(7) == 7
    with pytest.raises(KeyError, match="no region named"):
        mesh.region_tag("middle")


def test_load_nm_needs_unit_length(comm, mpi_tmp_path):
    path = write_msh(comm, os.path.join(mpi_tmp_path, "boxes_nm.msh"))
    with pytest.raises(MeshError, match="unit_length=1e-9"):
        fm.load(path, comm=comm)
    mesh = fm.load(path, comm=comm, unit_length=1e-9)
    s = mesh.statistics()
    assert s["volume"] == pytest.approx(VOL_LEFT + VOL_RIGHT, rel=1e-9)
    assert s["max_edge"] < 10 * NM and s["min_edge"] > 0.1 * NM
    with pytest.raises(MeshError, match="unit_length must be a positive"):
        fm.load(path, comm=comm, unit_length=-1.0)


def test_load_same_statistics_as_file_on_one_rank(comm, mpi_tmp_path):
    """Counts of a loaded mesh do not depend on the number of ranks."""
    path = write_msh(comm, os.path.join(mpi_tmp_path, "boxes_r.msh"), scale=NM)
    together = fm.load(path, comm=comm).statistics()
    alone = fm.load(path, comm=MPI.COMM_SELF).statistics()
    for key in ("nodes", "tetrahedra", "boundary_nodes"):
        assert together[key] == alone[key], key
    assert together["volume"] == pytest.approx(alone["volume"], rel=1e-12)


def test_load_without_volume_groups(comm, mpi_tmp_path):
    path = write_msh(comm, os.path.join(mpi_tmp_path, "nogroups.msh"), scale=NM,
                     volume_groups=False, surface_group=True)
    with pytest.raises(MeshError, match="no physical volume groups"):
        fm.load(path, comm=comm)


def test_load_surface_only(comm, mpi_tmp_path):
    path = write_msh(comm, os.path.join(mpi_tmp_path, "surface.msh"), scale=NM, dim=2)
    with pytest.raises(MeshError, match="no tetrahedra"):
        fm.load(path, comm=comm)


def test_load_second_order_rejected(comm, mpi_tmp_path):
    path = write_msh(comm, os.path.join(mpi_tmp_path, "p2.msh"), scale=NM, order=2)
    with pytest.raises(MeshError, match="linear tetrahedra"):
        fm.load(path, comm=comm)


def test_load_missing_file(comm, mpi_tmp_path):
    with pytest.raises(MeshError, match="does not exist"):
        fm.load(os.path.join(mpi_tmp_path, "nothing.msh"), comm=comm)


def test_generate_in_nm_without_unit_length(comm):
    def build(model):
        v = model.occ.addBox(0, 0, 0, 20, 10, 5)
        model.occ.synchronize()
        model.addPhysicalGroup(3, [v], 1)

    with pytest.raises(MeshError, match="unit_length"):
        fm.generate(build, 3.0, comm=comm)
    mesh = fm.generate(build, 3.0, comm=comm, unit_length=NM)
    assert mesh.regions == {"1": 1}
    assert mesh.statistics()["volume"] == pytest.approx(1000 * NM**3, rel=1e-9)
    with pytest.raises(MeshError, match="element size h must be positive"):
        fm.generate(build, -1.0, comm=comm)


def test_generate_without_groups(comm):
    def build(model):
        model.occ.addBox(0, 0, 0, 20, 10, 5)

    with pytest.raises(MeshError, match="addPhysicalGroup"):
        fm.generate(build, 3.0, comm=comm, unit_length=NM)


def test_summary_printed_on_rank_0(comm):
    mesh = geo.sphere(8 * NM, 2.5 * NM, comm=comm)
    out = io.StringIO()
    s = mesh.summary(file=out)
    text = out.getvalue()
    if comm.rank == 0:
        for word in (f"{s['nodes']} nodes", f"{s['tetrahedra']} tetrahedra",
                     f"{s['boundary_nodes']} boundary nodes", "edge length", "worst quality",
                     "magnet=1", f"{comm.size} rank"):
            assert word in text
    else:
        assert text == ""
    assert 0 < s["boundary_nodes"] < s["nodes"]
    assert 0 < s["worst_quality"] <= 1 and 0 < s["min_edge"] <= s["max_edge"] < 8 * NM


def test_boundary_nodes_of_a_box(comm):
    """Boundary nodes = nodes on the six faces (counted from coordinates), on any rank count."""
    from femag import compat
    mesh = geo.box(16 * NM, 10 * NM, 6 * NM, 2 * NM, comm=comm)
    space = compat.scalar_space(mesh.mesh)
    n_owned = space.dofmap.index_map.size_local
    x = compat.interpolation_coordinates(space)[:n_owned]
    on_face = np.any(np.abs(np.abs(x) - np.array([8, 5, 3]) * NM) < 1e-3 * NM, axis=1)
    assert mesh.statistics()["boundary_nodes"] == comm.allreduce(int(on_face.sum()))
