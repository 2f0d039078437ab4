"""Every DOLFINx call whose spelling differs between versions lives here.

femag runs on Debian 12's DOLFINx 0.5.2 and on newer releases from conda-forge
(0.9, 0.10). Features are detected with ``hasattr``, never by version number,
so moving to a newer DOLFINx is a change in this one module.
"""
from __future__ import annotations

import numpy as np

# PyPI wheels of h5py and VTK carry their own HDF5 / C++ runtime pieces; loaded after
# Debian's DOLFINx they bind to its libraries and fail (h5py: "Not a datatype"; VTK:
# std::bad_alloc in every scalar bar). Loading them first avoids both (~0.1 s each).
for _early in ("h5py", "vtkmodules.vtkCommonCore"):
    try:
        __import__(_early)
    except Exception:  # optional: only femag.output, femag.load and femag.plot need them
        pass

try:
    import dolfinx
    import dolfinx.fem
    import dolfinx.fem.petsc
    import dolfinx.io
    import dolfinx.mesh
    try:
        import dolfinx.io.gmshio  # noqa: F401  (dolfinx.io does not import it in 0.5)
    except ImportError:  # DOLFINx >= 0.10 calls it dolfinx.io.gmsh
        import dolfinx.io.gmsh  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the installation
    raise ImportError(
        "femag needs DOLFINx, which is not on PyPI. Install it either from Debian "
        "(apt-get install python3-dolfinx python3-petsc4py python3-mpi4py python3-gmsh, "
        "then a venv made with --system-site-packages; `make demo` does this) or from "
        "conda-forge (conda env create -f environment.yml)."
    ) from err

from petsc4py import PETSc

import logging as _logging

# FFCx installs a root handler; setuptools then logs every JIT compilation at INFO
# through it. Keep the handler for warnings only.
for _handler in _logging.root.handlers:
    _handler.setLevel(_logging.WARNING)

DOLFINX_VERSION = dolfinx.__version__
HAS_ADIOS2 = bool(getattr(dolfinx.common, "has_adios2", False))


# --- function spaces -------------------------------------------------------------
def vector_p1_space(mesh):
    """Continuous piecewise-linear 3-vector space (the magnetisation's space)."""
    if hasattr(dolfinx.fem, "functionspace"):
        return dolfinx.fem.functionspace(mesh, ("Lagrange", 1, (3,)))
    return dolfinx.fem.VectorFunctionSpace(mesh, ("Lagrange", 1), dim=3)


def scalar_space(mesh, family="Lagrange", degree=1):
    """Scalar space, e.g. P1 potentials or DG0 material parameters."""
    if hasattr(dolfinx.fem, "functionspace"):
        return dolfinx.fem.functionspace(mesh, (family, degree))
    return dolfinx.fem.FunctionSpace(mesh, (family, degree))


def vector_dg0_space(mesh):
    """Cell-wise constant 3-vectors (anisotropy axes)."""
    if hasattr(dolfinx.fem, "functionspace"):
        return dolfinx.fem.functionspace(mesh, ("DG", 0, (3,)))
    return dolfinx.fem.VectorFunctionSpace(mesh, ("DG", 0), dim=3)


def petsc_vector(function):
    """The PETSc Vec (with ghosts) behind a Function."""
    x = function.x
    if hasattr(x, "petsc_vec"):
        return x.petsc_vec
    return function.vector


def scatter_forward(function):
    """Owned values -> ghost copies."""
    function.x.scatter_forward()


def interpolation_points(space):
    points = space.element.interpolation_points
    return points() if callable(points) else points


def geometry_dofmap(mesh):
    """Cell -> geometry node indices as an (ncells, nodes_per_cell) int array."""
    dofmap = mesh.geometry.dofmap
    if hasattr(dofmap, "array") and hasattr(dofmap, "links"):
        ncells = mesh.topology.index_map(mesh.topology.dim).size_local + \
            mesh.topology.index_map(mesh.topology.dim).num_ghosts
        return np.asarray(dofmap.array).reshape(ncells, -1)
    dofmap = np.asarray(dofmap)
    return dofmap.reshape(dofmap.shape[0], -1)


def cell_dofs(space):
    """(Block) dof of each local cell for a one-dof-per-cell space such as DG0."""
    dm = space.dofmap
    lst = dm.list
    arr = np.asarray(lst.array if hasattr(lst, "array") else lst)
    return arr.reshape(-1)


def p1_input_indices(space):
    """Index in the mesh's input node order of every local P1 node (owned, then ghosts).

    The input order (the order in which the nodes were given to DOLFINx: Gmsh's) does
    not depend on the number of ranks, so it keys data written on p ranks and read on q.
    For P1 on an affine mesh a cell's dofs and its geometry nodes are both in reference
    vertex order, which gives the map dof -> geometry node -> input index."""
    mesh = space.mesh
    imap = space.dofmap.index_map
    n_local = imap.size_local + imap.num_ghosts
    dofs = cell_dofs(space).reshape(-1, 4)
    nodes = geometry_dofmap(mesh)[: len(dofs)]
    result = np.full(n_local, -1, dtype=np.int64)
    result[dofs.reshape(-1)] = np.asarray(mesh.geometry.input_global_indices,
                                          dtype=np.int64)[nodes.reshape(-1)]
    return result


def create_connectivity(mesh, d0, d1):
    mesh.topology.create_connectivity(d0, d1)
    return mesh.topology.connectivity(d0, d1)


def connectivity_array(conn, entity_count):
    """Fixed-width connectivity (e.g. facet -> vertex) as an int array."""
    arr = np.asarray(conn.array)
    return arr.reshape(entity_count, -1) if entity_count else arr.reshape(0, 3)


# --- meshes ----------------------------------------------------------------------
def model_to_mesh(model, comm, rank, gdim=3):
    """gmsh model (on `rank`) -> (mesh, cell_tags, facet_tags) on every rank of comm."""
    gmshio = getattr(dolfinx.io, "gmshio", None) or getattr(dolfinx.io, "gmsh")
    result = gmshio.model_to_mesh(model, comm, rank, gdim=gdim)
    if hasattr(result, "mesh"):  # DOLFINx >= 0.10 returns a MeshData tuple
        return result.mesh, result.cell_tags, result.facet_tags
    return result[0], result[1], result[2]


def read_msh(filename, comm, rank, gdim=3):
    gmshio = getattr(dolfinx.io, "gmshio", None) or getattr(dolfinx.io, "gmsh")
    result = gmshio.read_from_msh(filename, comm, rank, gdim=gdim)
    if hasattr(result, "mesh"):
        return result.mesh, result.cell_tags, result.facet_tags
    return result[0], result[1], result[2]


def vtk_mesh(space_or_mesh):
    """(topology, cell_types, geometry) for pyvista.UnstructuredGrid."""
    import dolfinx.plot
    if hasattr(dolfinx.plot, "vtk_mesh"):
        return dolfinx.plot.vtk_mesh(space_or_mesh)
    return dolfinx.plot.create_vtk_mesh(space_or_mesh)


# --- linear algebra --------------------------------------------------------------
def petsc_options_prefix_kwargs(prefix):
    """Newer LinearProblem requires a prefix; 0.5 takes none."""
    import inspect
    params = inspect.signature(dolfinx.fem.petsc.LinearProblem.__init__).parameters
    return {"petsc_options_prefix": prefix} if "petsc_options_prefix" in params else {}


def assemble_matrix(form, bcs=None, diagonal=1.0):
    A = dolfinx.fem.petsc.assemble_matrix(form, bcs=bcs or [], diagonal=diagonal)
    A.assemble()
    return A


def assemble_vector(form):
    b = dolfinx.fem.petsc.assemble_vector(form)
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    return b


def ghost_update_add(vec):
    vec.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)


def ghost_update_forward(vec):
    vec.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)


def apply_lifting(b, forms, bcs):
    dolfinx.fem.petsc.apply_lifting(b, forms, bcs)


def set_bc(b, bcs):
    dolfinx.fem.petsc.set_bc(b, bcs)


# --- points --------------------------------------------------------------------------
def interpolation_coordinates(space):
    """(n_local_blocks, 3) coordinates of a P1 space's nodes (owned first, then ghosts)."""
    return np.asarray(space.tabulate_dof_coordinates())[:, :3]


def _bounding_box_tree(mesh):
    import dolfinx.geometry as geo
    tdim = mesh.topology.dim
    if hasattr(geo, "bb_tree"):
        return geo.bb_tree(mesh, tdim)
    return geo.BoundingBoxTree(mesh, tdim)


def probe(function, points):
    """Evaluate `function` at points (n, 3) → (n, value_size), the same on every rank.

    Each point is evaluated by the lowest rank whose cells contain it; NaN outside."""
    import dolfinx.geometry as geo
    from mpi4py import MPI
    mesh = function.function_space.mesh
    comm = mesh.comm
    points = np.ascontiguousarray(points, dtype=np.float64)
    n = len(points)
    size = function.function_space.dofmap.index_map_bs
    values = np.zeros((n, size))
    found = np.zeros(n, dtype=np.int32)
    if n:
        tree = _bounding_box_tree(mesh)
        candidates = geo.compute_collisions(tree, points) if not hasattr(geo, "compute_collisions_points") \
            else geo.compute_collisions_points(tree, points)
        # own barycentric test: DOLFINx 0.5's GJK tolerance is absolute and misses
        # every cell of a nanometre-sized mesh
        n_owned = mesh.topology.index_map(mesh.topology.dim).size_local
        x = mesh.geometry.x
        dofmap = geometry_dofmap(mesh)
        idx, cell_ids = [], []
        for i in range(n):
            for c in candidates.links(i):
                if c >= n_owned:
                    continue
                p = x[dofmap[c]]
                T = (p[1:] - p[0]).T
                lam = np.linalg.solve(T, points[i] - p[0])
                tol = 1e-10
                if lam.min() >= -tol and lam.sum() <= 1 + tol:
                    idx.append(i)
                    cell_ids.append(c)
                    break
        if idx:
            idx = np.array(idx)
            values[idx] = np.asarray(function.eval(points[idx], np.array(cell_ids, dtype=np.int32))).reshape(len(idx), size)
            found[idx] = 1
    # the lowest rank holding a point wins: mark ranks, take min rank per point
    owner = np.where(found == 1, comm.rank, comm.size).astype(np.int32)
    comm.Allreduce(MPI.IN_PLACE, owner, op=MPI.MIN)
    mine = (owner == comm.rank)
    values[~mine] = 0.0
    comm.Allreduce(MPI.IN_PLACE, values, op=MPI.SUM)
    values[owner == comm.size] = np.nan
    return values
