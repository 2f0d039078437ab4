"""Meshes: Gmsh models and .msh files -> DOLFINx meshes with region tags, on every MPI rank.

A mesh is generated (or read) on one rank, then partitioned and distributed by
DOLFINx with its physical-volume tags. All lengths are in metres; a geometry drawn
in other units (e.g. nm) must say so with ``unit_length`` (1e-9 for nm).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np
from mpi4py import MPI

from . import compat

#: A magnet larger than this (in metres) is taken as a unit mistake.
MAX_PLAUSIBLE_EXTENT = 1e-3


class MeshError(ValueError):
    """A mesh that femag cannot use (no volume tags, wrong units, degenerate cells...)."""


@dataclass
class Mesh:
    """A distributed tetrahedral mesh with its regions.

    Attributes
    ----------
    mesh : dolfinx.mesh.Mesh
        Coordinates in metres.
    cell_tags : MeshTags
        Physical-volume tag of each local cell.
    facet_tags : MeshTags or None
        Physical-surface tags, if the model had any.
    regions : dict[str, int]
        Physical-group name -> tag (unnamed groups appear as their tag's str).
    """

    mesh: object
    cell_tags: object
    facet_tags: object = None
    regions: dict = field(default_factory=dict)

    @property
    def comm(self):
        return self.mesh.comm

    def region_tag(self, key):
        """Tag of a region given by name or tag number."""
        if isinstance(key, (int, np.integer)):
            if int(key) not in self.regions.values():
                raise KeyError(f"mesh has no region with tag {key}; regions: {self.regions}")
            return int(key)
        if key not in self.regions:
            raise KeyError(f"mesh has no region named {key!r}; regions: {self.regions}")
        return self.regions[key]

    def statistics(self):
        """Global mesh statistics (collective). Lengths in m, volume in m³."""
        return mesh_statistics(self)

    def summary(self, file=None):
        """Print a one-paragraph summary on rank 0 (collective)."""
        s = self.statistics()
        if self.comm.rank == 0:
            regions = ", ".join(f"{n}={t}" for n, t in self.regions.items())
            print(f"femag mesh: {s['nodes']} nodes, {s['tetrahedra']} tetrahedra, "
                  f"{s['boundary_nodes']} boundary nodes, volume {s['volume']:.4g} m^3, "
                  f"edge length {s['min_edge']:.3g}..{s['max_edge']:.3g} m, "
                  f"worst quality (radius ratio) {s['worst_quality']:.3f}, "
                  f"regions [{regions}], {self.comm.size} rank(s)", file=file, flush=True)
        return s


@contextlib.contextmanager
def gmsh_session():
    """Initialise gmsh if needed; finalise only what we initialised."""
    import gmsh
    is_initialized = getattr(gmsh, "isInitialized", None) or getattr(gmsh, "is_initialized", None)
    # gmsh < 4.9 cannot tell; there gmsh.initialize() is called once per session we open
    started = not is_initialized() if is_initialized else True
    if started:
        gmsh.initialize()
    gmsh.option.setNumber("General.Terminal", 0)
    try:
        yield gmsh
    finally:
        if started:
            gmsh.finalize()


def _on_root(comm, rank, work):
    """Run work() on `rank`, broadcast its result or re-raise its error on every rank."""
    result, error = None, None
    if comm.rank == rank:
        try:
            result = work()
        except Exception as exc:  # re-raised everywhere below, so no rank hangs
            error = exc
    error = comm.bcast(error, root=rank)
    if error is not None:
        raise error
    return comm.bcast(result, root=rank)


def _volume_groups(model):
    groups = {}
    for dim, tag in model.getPhysicalGroups(3):
        name = model.getPhysicalName(dim, tag) or str(tag)
        groups[name] = int(tag)
    return groups


def check_gmsh_tetrahedra(model):
    """Reject non-finite node coordinates and inverted tetrahedra of a gmsh model (on the
    meshing rank, before distribution).

    Gmsh orients its tetrahedra positively ((x1−x0)·((x2−x0)×(x3−x0)) > 0); a file with
    negative ones was written by a tool that mixed up the node order, so its other data
    may be wrong too. DOLFINx reorders every cell's vertices, so this is the only place
    where the orientation can still be seen."""
    tags, coords, _ = model.mesh.getNodes()
    coords = np.asarray(coords, dtype=float).reshape(-1, 3)
    if not np.all(np.isfinite(coords)):
        raise MeshError(f"the mesh has {int(np.sum(~np.all(np.isfinite(coords), axis=1)))} "
                        f"node(s) with NaN or infinite coordinates")
    position = np.zeros((int(np.max(tags)) + 1 if len(tags) else 1, 3))
    position[np.asarray(tags, dtype=np.int64)] = coords
    inverted = 0
    for etype, nodes in zip(*model.mesh.getElements(3)[::2]):
        p = position[np.asarray(nodes, dtype=np.int64).reshape(-1, 4)]
        det = np.einsum("ij,ij->i", p[:, 1] - p[:, 0],
                        np.cross(p[:, 2] - p[:, 0], p[:, 3] - p[:, 0]))
        inverted += int(np.sum(det < 0))
    if inverted:
        raise MeshError(f"the mesh has {inverted} inverted (negatively oriented) tetrahedra: "
                        f"its node order is not gmsh's; re-export it from gmsh")


def from_gmsh_model(model=None, comm=MPI.COMM_WORLD, rank=0, unit_length=1.0, summary=True):
    """Distribute the current gmsh model (meshed on `rank`) as a femag :class:`Mesh`.

    Parameters
    ----------
    model : gmsh.model, optional
        Defaults to ``gmsh.model``; only needed on `rank`.
    comm : mpi4py communicator
    unit_length : float
        Metres per model length unit (1e-9 for a model drawn in nm).
    """
    def inspect():
        import gmsh
        m = model or gmsh.model
        groups = _volume_groups(m)
        if not groups:
            raise MeshError("the mesh has no physical volume groups (tagged 3D regions): "
                            "tag the magnetic volume(s) with gmsh.model.addPhysicalGroup(3, ...)")
        _, _, node_tags = m.mesh.getElements(3)
        n_tets = sum(len(t) for t in node_tags)
        if n_tets == 0:
            raise MeshError("the mesh has no tetrahedra (surface-only mesh?): generate a 3D mesh")
        types, _, _ = m.mesh.getElements(3)
        if any(t != 4 for t in types):
            raise MeshError("femag needs linear tetrahedra (gmsh element type 4); "
                            f"found element types {sorted(set(int(t) for t in types))}")
        check_gmsh_tetrahedra(m)
        return groups

    if not np.isfinite(unit_length) or unit_length <= 0:
        raise MeshError(f"unit_length must be a positive number of metres, got {unit_length!r}")
    regions = _on_root(comm, rank, inspect)
    import gmsh
    dmesh, cell_tags, facet_tags = compat.model_to_mesh(
        (model or gmsh.model) if comm.rank == rank else None, comm, rank, gdim=3)
    mesh = _finish(dmesh, cell_tags, facet_tags, regions, unit_length)
    if summary:  # the user sees what was built before any physics runs
        mesh.summary()
    return mesh


def _finish(dmesh, cell_tags, facet_tags, regions, unit_length):
    if unit_length != 1.0:
        dmesh.geometry.x[:, :] *= unit_length
    x = dmesh.geometry.x
    comm = dmesh.comm
    lo = np.array(x.min(axis=0) if len(x) else np.full(3, np.inf), dtype=np.float64)
    hi = np.array(x.max(axis=0) if len(x) else np.full(3, -np.inf), dtype=np.float64)
    comm.Allreduce(MPI.IN_PLACE, lo, op=MPI.MIN)
    comm.Allreduce(MPI.IN_PLACE, hi, op=MPI.MAX)
    extent = float(np.max(hi - lo))
    if extent > MAX_PLAUSIBLE_EXTENT:
        raise MeshError(
            f"the mesh is {extent:g} m across: femag works in metres. If the geometry was "
            f"drawn in nm, pass unit_length=1e-9 (in µm: 1e-6)")
    mesh = Mesh(dmesh, cell_tags, facet_tags, dict(regions))
    check_cells(mesh)
    return mesh


def load(path, comm=MPI.COMM_WORLD, rank=0, unit_length=1.0, summary=True):
    """Read a Gmsh ``.msh`` file with physical volume groups (on `rank`) and distribute it.

    `unit_length`: metres per file length unit (1e-9 for a file in nm).
    """
    import os

    def read():
        if not os.path.isfile(path):
            raise MeshError(f"mesh file {path!r} does not exist")
        import gmsh
        try:
            gmsh.open(str(path))
        except Exception as exc:
            raise MeshError(f"gmsh could not read mesh file {path!r}: {exc}") from None
        return True

    if comm.rank == rank:
        with gmsh_session():
            _on_root(comm, rank, read)
            return from_gmsh_model(None, comm, rank, unit_length, summary)
    _on_root(comm, rank, read)
    return from_gmsh_model(None, comm, rank, unit_length, summary)


def generate(build, h, comm=MPI.COMM_WORLD, rank=0, name="femag", h_min=None,
             optimize=True, unit_length=1.0, options=None, summary=True):
    """Build a gmsh model with ``build(gmsh.model)`` on `rank`, mesh it, distribute it.

    `build` adds the geometry (OCC kernel) and its physical volume groups.
    `h` is the target element size in model units (metres unless `unit_length`).
    `options`: extra numeric gmsh options for this mesh only, e.g. {"Mesh.Algorithm": 1}.
    `summary`: print the mesh summary on rank 0.
    """
    def make():
        import gmsh
        gmsh.model.add(name)
        build(gmsh.model)
        gmsh.model.occ.synchronize()
        gmsh.option.setNumber("Mesh.CharacteristicLengthMax", h)
        gmsh.option.setNumber("Mesh.CharacteristicLengthMin", h_min if h_min else 0.0)
        gmsh.option.setNumber("Mesh.CharacteristicLengthFromCurvature", 0)
        saved = {key: gmsh.option.getNumber(key) for key in (options or {})}
        try:
            for key, value in (options or {}).items():
                gmsh.option.setNumber(key, value)
            gmsh.model.mesh.generate(3)
            if optimize:
                gmsh.model.mesh.optimize("")  # gmsh default tetrahedral optimiser
        finally:  # a session the caller opened keeps its own options
            for key, value in saved.items():
                gmsh.option.setNumber(key, value)
        return True

    if h <= 0 or not np.isfinite(h):
        raise MeshError(f"element size h must be positive, got {h!r}")
    if comm.rank == rank:
        with gmsh_session() as gmsh:
            try:
                _on_root(comm, rank, make)
                return from_gmsh_model(None, comm, rank, unit_length, summary)
            finally:
                gmsh.model.remove() if gmsh.model.list() else None
    _on_root(comm, rank, make)
    return from_gmsh_model(None, comm, rank, unit_length, summary)


def _local_tets(mesh):
    dmesh = mesh.mesh
    tdim = dmesh.topology.dim
    n_owned = dmesh.topology.index_map(tdim).size_local
    cells = compat.geometry_dofmap(dmesh)[:n_owned]
    return dmesh.geometry.x[cells]  # (n, 4, 3)


def check_cells(mesh):
    """Reject meshes with (near) zero-volume tetrahedra (collective)."""
    p = _local_tets(mesh)
    if len(p):
        vol = np.abs(np.einsum("ij,ij->i", p[:, 1] - p[:, 0],
                               np.cross(p[:, 2] - p[:, 0], p[:, 3] - p[:, 0]))) / 6.0
        edge = np.linalg.norm(p[:, 1] - p[:, 0], axis=1)
        bad = int(np.sum(vol <= 1e-9 * edge ** 3))
    else:
        bad = 0
    bad = mesh.comm.allreduce(bad, op=MPI.SUM)
    if bad:
        raise MeshError(f"the mesh has {bad} degenerate (zero-volume) tetrahedra")
    untagged = mesh.mesh.topology.index_map(3).size_local - int(np.sum(
        mesh.cell_tags.indices < mesh.mesh.topology.index_map(3).size_local))
    if mesh.comm.allreduce(untagged, op=MPI.SUM):
        raise MeshError("some tetrahedra belong to no physical volume group")


def mesh_statistics(mesh):
    """Global counts (nodes, tetrahedra, boundary nodes), volume (m³), edge lengths (m), quality."""
    dmesh = mesh.mesh
    comm = mesh.comm
    p = _local_tets(mesh)
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    if len(p):
        edges = np.stack([np.linalg.norm(p[:, a] - p[:, b], axis=1) for a, b in pairs], axis=1)
        vol = np.abs(np.einsum("ij,ij->i", p[:, 1] - p[:, 0],
                               np.cross(p[:, 2] - p[:, 0], p[:, 3] - p[:, 0]))) / 6.0
        faces = [(1, 2, 3), (0, 2, 3), (0, 1, 3), (0, 1, 2)]
        area = sum(0.5 * np.linalg.norm(np.cross(p[:, b] - p[:, a], p[:, c] - p[:, a]), axis=1)
                   for a, b, c in faces)
        r_in = 3.0 * vol / area
        # circumradius R from the Cayley–Menger-type formula: 6V R = sqrt((aA+bB+cC)(...)...)
        a, b, c = edges[:, 0] * edges[:, 5], edges[:, 1] * edges[:, 4], edges[:, 2] * edges[:, 3]
        prod = (a + b + c) * (a + b - c) * (a - b + c) * (-a + b + c)
        r_out = np.sqrt(np.maximum(prod, 0.0)) / (24.0 * vol)
        quality = 3.0 * r_in / r_out  # 1 for a regular tetrahedron
        local = (edges.min(), edges.max(), quality.min(), vol.sum())
    else:
        local = (np.inf, 0.0, 1.0, 0.0)
    return {
        "nodes": dmesh.topology.index_map(0).size_global,
        "tetrahedra": dmesh.topology.index_map(3).size_global,
        "boundary_nodes": boundary_node_count(mesh),
        "min_edge": comm.allreduce(local[0], op=MPI.MIN),
        "max_edge": comm.allreduce(local[1], op=MPI.MAX),
        "worst_quality": comm.allreduce(local[2], op=MPI.MIN),
        "volume": comm.allreduce(local[3], op=MPI.SUM),
    }


def boundary_node_count(mesh):
    """Number of mesh nodes on the exterior surface, counted once over all ranks (collective).

    exterior_facet_indices gives each rank only the facets it owns, whose nodes may be
    owned by another rank: a P1 indicator is set on those nodes and summed into the
    owners (reverse scatter), then each rank counts its owned nodes."""
    import dolfinx.fem
    dmesh = mesh.mesh
    dmesh.topology.create_connectivity(2, 3)
    facets = compat.dolfinx.mesh.exterior_facet_indices(dmesh.topology)
    space = compat.scalar_space(dmesh)
    indicator = dolfinx.fem.Function(space)
    dofs = dolfinx.fem.locate_dofs_topological(space, 2, np.asarray(facets, dtype=np.int32))
    indicator.x.array[dofs] = 1.0
    compat.ghost_update_add(compat.petsc_vector(indicator))
    n_owned = space.dofmap.index_map.size_local
    return mesh.comm.allreduce(int(np.count_nonzero(indicator.x.array[:n_owned])), op=MPI.SUM)
