"""Boundary surfaces of tetrahedral meshes, and small Gmsh test bodies.

:func:`boundary_of_tets` turns a tetrahedral mesh into what the BEM operators take:
the boundary nodes, their coordinates and the boundary triangles oriented with
outward normals (counter-clockwise seen from outside), plus the interior solid angle
at every boundary node. :func:`gmsh_body` meshes a sphere or a box with Gmsh (used
by the tests and the benchmark); :func:`body_surface` does both on one rank and
broadcasts the result.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .lindholm import solid_angle_sum

_FACES = np.array([[1, 2, 3], [0, 3, 2], [0, 1, 3], [0, 2, 1]], dtype=np.int64)


@dataclass
class BoundarySurface:
    """A closed boundary surface: what the boundary operators need."""

    nodes: np.ndarray          # (Nb,) indices of the boundary nodes in the volume mesh
    coords: np.ndarray         # (Nb, 3) their coordinates
    triangles: np.ndarray      # (Nt, 3) indices into coords, outward (counter-clockwise)
    solid_angles: np.ndarray   # (Nb,) interior solid angle Ω_i at each node
    n_tets: int = 0

    @property
    def n_nodes(self):
        return len(self.coords)


def boundary_of_tets(coords, tets):
    """(nodes, boundary_coords, triangles, solid_angles) of a tetrahedral mesh.

    Boundary faces are the faces of exactly one tetrahedron; each is oriented so its
    normal points away from the fourth vertex of that tetrahedron (outward).
    """
    coords = np.asarray(coords, dtype=np.float64)
    tets = np.asarray(tets, dtype=np.int64).reshape(-1, 4)
    faces = tets[:, _FACES].reshape(-1, 3)                  # (4M, 3)
    opposite = tets.ravel()                                 # face k of a tet is opposite corner k
    key = np.sort(faces, axis=1)
    _, first, counts = np.unique(key, axis=0, return_index=True, return_counts=True)
    once = first[counts == 1]
    faces, opposite = faces[once], opposite[once]
    a, b, c = coords[faces[:, 0]], coords[faces[:, 1]], coords[faces[:, 2]]
    inward = np.einsum("ij,ij->i", np.cross(b - a, c - a), coords[opposite] - a) > 0
    faces[inward] = faces[inward][:, [0, 2, 1]]
    nodes, local = np.unique(faces, return_inverse=True)
    triangles = np.ascontiguousarray(local.reshape(-1, 3), dtype=np.int64)
    omega = solid_angle_sum(coords, tets, nodes)
    return nodes, np.ascontiguousarray(coords[nodes]), triangles, omega


def gmsh_body(kind="sphere", h=0.1, size=1.0, interior_growth=4.0):
    """Mesh a body with Gmsh and return (coords (N, 3), tets (M, 4)).

    kind "sphere" (radius `size`) or "box" (edge lengths `size`, a float or 3
    floats, one corner at the origin); `h` the element size on the surface. Inside,
    the elements grow up to `interior_growth`·h away from the surface (the BEM only
    needs the surface; this keeps the volume meshes of the benchmark small).
    """
    import gmsh

    started = not _gmsh_initialized(gmsh)
    if started:
        gmsh.initialize()
    gmsh.option.setNumber("General.Terminal", 0)
    try:
        gmsh.model.add(f"femag-bem-{kind}")
        try:
            if kind == "sphere":
                gmsh.model.occ.addSphere(0.0, 0.0, 0.0, float(size))
            elif kind in ("box", "cube"):
                lx, ly, lz = np.broadcast_to(np.asarray(size, dtype=float), (3,))
                gmsh.model.occ.addBox(0.0, 0.0, 0.0, lx, ly, lz)
            else:
                raise ValueError(f"unknown body {kind!r}: use 'sphere' or 'box'")
            gmsh.model.occ.synchronize()
            gmsh.option.setNumber("Mesh.CharacteristicLengthFromCurvature", 0)
            gmsh.option.setNumber("Mesh.CharacteristicLengthExtendFromBoundary", 0)
            gmsh.option.setNumber("Mesh.CharacteristicLengthFromPoints", 0)
            surfaces = [t for _, t in gmsh.model.getEntities(2)]
            field = gmsh.model.mesh.field
            dist = field.add("Distance")
            field.setNumbers(dist, "FacesList", surfaces)
            thr = field.add("Threshold")
            field.setNumber(thr, "InField", dist)
            field.setNumber(thr, "SizeMin", h)
            field.setNumber(thr, "SizeMax", interior_growth * h)
            field.setNumber(thr, "DistMin", h)
            field.setNumber(thr, "DistMax", 2.0 * interior_growth * h)
            field.setAsBackgroundMesh(thr)
            gmsh.model.mesh.generate(3)
            node_tags, xyz, _ = gmsh.model.mesh.getNodes()
            coords = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
            index = np.zeros(int(np.max(node_tags)) + 1, dtype=np.int64)
            index[np.asarray(node_tags, dtype=np.int64)] = np.arange(len(node_tags))
            types, _, elem_nodes = gmsh.model.mesh.getElements(3)
            tets = [np.asarray(n, dtype=np.int64).reshape(-1, 4)
                    for t, n in zip(types, elem_nodes) if t == 4]
            tets = index[np.concatenate(tets)]
        finally:
            gmsh.model.remove()
    finally:
        if started:
            gmsh.finalize()
    used = np.unique(tets)  # drop nodes used by no tetrahedron (geometry points)
    renumber = np.full(len(coords), -1, dtype=np.int64)
    renumber[used] = np.arange(len(used))
    return np.ascontiguousarray(coords[used]), np.ascontiguousarray(renumber[tets])


def _gmsh_initialized(gmsh):
    probe = getattr(gmsh, "isInitialized", None) or getattr(gmsh, "is_initialized", None)
    # gmsh < 4.9 cannot tell: take it as not initialised (we initialise and finalise)
    return bool(probe()) if probe is not None else False


def body_surface(kind="sphere", h=0.1, comm=None, root=0, **kw):
    """Mesh a body on `root`, extract its boundary there, broadcast a BoundarySurface."""
    def make():
        coords, tets = gmsh_body(kind, h, **kw)
        nodes, bcoords, triangles, omega = boundary_of_tets(coords, tets)
        return BoundarySurface(nodes, bcoords, triangles, omega, len(tets))

    if comm is None or comm.size == 1:
        return make()
    result, error = None, None
    if comm.rank == root:
        try:
            result = make()
        except Exception as exc:  # re-raised on every rank so none hangs
            error = exc
    error = comm.bcast(error, root=root)
    if error is not None:
        raise error
    return comm.bcast(result, root=root)
