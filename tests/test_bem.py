"""Boundary-element operator of the Fredkin–Koehler method (femag.bem).

Runs serially and under ``mpirun -n 2``: surfaces are meshed with gmsh on rank 0 and
broadcast; operators are built on COMM_WORLD (and COMM_SELF where the test compares).
"""
import math

import numpy as np
import pytest
from mpi4py import MPI

from femag.bem import hmatrix, lindholm
from femag.bem.operator import (DenseBoundaryOperator, HierarchicalBoundaryOperator,
                                boundary_operator)
from femag.bem.surface import body_surface, boundary_of_tets, gmsh_body

COMM = MPI.COMM_WORLD


def _bcast_from_root(make):
    value = make() if COMM.rank == 0 else None
    return COMM.bcast(value, root=0)


@pytest.fixture(scope="module")
def cube_mesh():
    """(coords, tets) of the unit cube."""
    return _bcast_from_root(lambda: gmsh_body("box", 0.2))


@pytest.fixture(scope="module")
def cube(cube_mesh):
    nodes, coords, tris, omega = boundary_of_tets(*cube_mesh)
    return coords, tris, omega


@pytest.fixture(scope="module")
def sphere():
    s = body_surface("sphere", 0.1, comm=COMM)       # ~1500 boundary nodes
    return s.coords, s.triangles, s.solid_angles


@pytest.fixture(scope="module")
def big_sphere():
    s = body_surface("sphere", 0.06, comm=COMM)      # ~4000 boundary nodes
    return s.coords, s.triangles, s.solid_angles


@pytest.fixture(scope="module")
def box():
    s = body_surface("box", 0.055, size=[1.0, 0.8, 0.6], comm=COMM)   # ~2000 nodes
    return s.coords, s.triangles, s.solid_angles


def _rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


# ----------------------------------------------------------------------------------
# Lindholm weights of one triangle
# ----------------------------------------------------------------------------------
def _quadrature_weights(vertices, x, n_u=12, n_v=48):
    """w_j = 1/4π ∫_T λ_j (x − y)·n/|x − y|³ dS by brute-force Gauss–Legendre quadrature.

    T is split into the three (signed) sub-triangles that meet at the projection p of
    x; each is mapped from the unit square, y = p + u(a − p + v(b − a)), so the peak
    of the near-singular integrand sits at u = 0, and u is integrated over
    geometrically graded intervals (ratio 2) down to 1e-5·ζ/|a − p|, v on [0, 1]."""
    v0, v1, v2 = vertices
    normal = np.cross(v1 - v0, v2 - v0)
    two_a = np.linalg.norm(normal)
    normal /= two_a
    zeta = np.dot(x - v0, normal)
    p = x - zeta * normal
    e1, e2 = v1 - v0, v2 - v0
    gram_inv = np.linalg.inv(np.array([[e1 @ e1, e1 @ e2], [e1 @ e2, e2 @ e2]]))
    gu, wu = np.polynomial.legendre.leggauss(n_u)
    gv, wv = np.polynomial.legendre.leggauss(n_v)
    v, wv = 0.5 * (gv + 1.0), 0.5 * wv
    total = np.zeros(3)
    for a, b in ((v0, v1), (v1, v2), (v2, v0)):
        sub = np.dot(np.cross(a - p, b - p), normal)   # signed 2·area of (p, a, b)
        if abs(sub) < 1e-15:
            continue
        reach = max(np.linalg.norm(a - p), np.linalg.norm(b - p))
        lo = 1e-5 * abs(zeta) / reach
        edges = [0.0] + list(lo * 2.0 ** np.arange(int(np.ceil(np.log2(1.0 / lo))))) + [1.0]
        edges = np.unique(np.clip(edges, 0.0, 1.0))
        left, right = edges[:-1, None], edges[1:, None]
        u = (0.5 * (right - left) * (gu[None, :] + 1.0) + left).ravel()
        w_u = (0.5 * (right - left) * wu[None, :]).ravel()
        y = p + u[:, None, None] * ((a - p) + v[None, :, None] * (b - a)[None, None, :])
        d = x - y
        kernel = (d @ normal) / np.einsum("ijk,ijk->ij", d, d) ** 1.5
        lam12 = np.einsum("kl,ijl->ijk", gram_inv,
                          np.stack([(y - v0) @ e1, (y - v0) @ e2], axis=-1))
        lam = np.concatenate([1.0 - lam12.sum(-1, keepdims=True), lam12], axis=-1)
        weight = (w_u * u)[:, None] * wv[None, :] * sub
        total += np.einsum("ij,ij,ijk->k", weight, kernel, lam) / (4 * math.pi)
    return total


@pytest.mark.parametrize("offset", [
    (0.0, 0.0, 0.05),       # near, above the interior
    (0.25, -0.1, -0.02),    # near, below
    (1.3, 0.4, 0.03),       # near the plane, beside the triangle
    (0.1, 0.2, 0.0),        # in the plane, outside the triangle (exactly zero)
    (2.0, -3.0, 4.0),       # far
    (30.0, 10.0, -20.0),    # very far
    "corner",               # 0.01 above a corner
])
def test_triangle_weights_match_quadrature(offset):
    vertices = np.array([[0.1, 0.0, 0.05], [1.0, 0.2, 0.0], [0.3, 0.9, 0.1]])
    normal = np.cross(vertices[1] - vertices[0], vertices[2] - vertices[0])
    normal /= np.linalg.norm(normal)
    e1 = (vertices[1] - vertices[0]) / np.linalg.norm(vertices[1] - vertices[0])
    e2 = np.cross(normal, e1)
    dx, dy, dz = offset if offset != "corner" else (0.0, 0.0, 0.01)
    if offset == "corner":
        x = vertices[0] + dz * normal
    elif dz == 0.0:  # a point in the plane, outside the triangle
        x = vertices[1] + 0.5 * (vertices[1] - vertices[0]) + dy * e2
    else:
        x = vertices.mean(axis=0) + dx * e1 + dy * e2 + dz * normal
    w = lindholm.triangle_weights(vertices, x[None, :])[0]
    if dz == 0.0:
        assert np.all(np.abs(w) < 1e-14)
        return
    q = _quadrature_weights(vertices, x)
    q_fine = _quadrature_weights(vertices, x, n_u=16, n_v=64)
    assert np.allclose(q, q_fine, rtol=1e-9, atol=0)    # the quadrature has converged
    assert np.allclose(w, q, rtol=1e-6, atol=1e-6 * np.abs(q).max()), (w, q)
    # the sign convention: x above (on the side of n) sees positive weights
    assert np.sign(w.sum()) == np.sign(dz)
    # invariance under translation and scaling (metres: 1e-9 m triangles)
    w_nm = lindholm.triangle_weights(1e-9 * vertices + 3e-7, (1e-9 * x + 3e-7)[None, :])[0]
    assert np.allclose(w_nm, w, rtol=1e-9, atol=1e-12 * np.abs(w).max())


def test_weight_sum_is_minus_solid_angle():
    rng = np.random.default_rng(3)
    vertices = rng.standard_normal((3, 3))
    targets = 3 * rng.standard_normal((20, 3))
    w = lindholm.triangle_weights(vertices, targets)
    r = vertices[None, :, :] - targets[:, None, :]
    rho = np.linalg.norm(r, axis=2)
    triple = np.einsum("ij,ij->i", r[:, 0], np.cross(r[:, 1], r[:, 2]))
    dot = lambda a, b: np.einsum("ij,ij->i", r[:, a], r[:, b])  # noqa: E731
    denom = rho.prod(axis=1) + dot(0, 1) * rho[:, 2] + dot(0, 2) * rho[:, 1] \
        + dot(1, 2) * rho[:, 0]
    omega = 2 * np.arctan2(triple, denom)
    assert np.allclose(w.sum(axis=1), -omega / (4 * math.pi), rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------------
# solid angles
# ----------------------------------------------------------------------------------
def test_solid_angles_of_cube(cube_mesh, cube):
    coords, tris, omega = cube
    at_side = np.sum(np.isclose(coords, 0.0) | np.isclose(coords, 1.0), axis=1)
    expected = np.select([at_side == 3, at_side == 2, at_side == 1],
                         [math.pi / 2, math.pi, 2 * math.pi], np.nan)
    assert np.all(at_side >= 1)
    assert np.sum(at_side == 3) == 8
    assert np.allclose(omega, expected, rtol=0, atol=1e-12)
    # an interior vertex sees 4π; a vertex in no tetrahedron gets 0
    all_coords, tets = cube_mesh
    inside = np.setdiff1d(np.arange(len(all_coords)), np.unique(
        boundary_of_tets(all_coords, tets)[0]))[:5]
    assert np.allclose(lindholm.solid_angle_sum(all_coords, tets, inside), 4 * math.pi)
    elsewhere = np.setdiff1d(np.arange(len(all_coords)), tets[0])[:3]
    assert np.all(lindholm.solid_angle_sum(all_coords, tets[:1], elsewhere) == 0.0)
    assert np.all(lindholm.solid_angle_sum(all_coords, tets[:1], tets[0]) > 0.0)


def test_solid_angles_add_up_over_ranks(cube_mesh, cube):
    """The caller sums each rank's tetrahedra: splitting the cells changes nothing."""
    all_coords, tets = cube_mesh
    nodes = boundary_of_tets(all_coords, tets)[0]
    parts = np.array_split(np.arange(len(tets)), COMM.size)
    mine = lindholm.solid_angle_sum(all_coords, tets[parts[COMM.rank]], nodes)
    total = COMM.allreduce(mine, op=MPI.SUM)
    assert np.allclose(total, cube[2], rtol=0, atol=1e-12)
    halves = sum(lindholm.solid_angle_sum(all_coords, tets[p], nodes)
                 for p in np.array_split(np.arange(len(tets)), 3))
    assert np.allclose(halves, cube[2], rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------------
# the dense operator
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("surface", ["cube", "sphere"])
def test_rows_of_B_sum_to_minus_one(surface, request):
    coords, tris, omega = request.getfixturevalue(surface)
    op = DenseBoundaryOperator(coords, tris, omega, COMM)
    y = op.matvec(np.ones(len(coords)))
    assert np.max(np.abs(y + 1.0)) < 1e-10
    # K alone: rows sum to −Ω_i/4π (the surface seen from x_i)
    rows = np.arange(0, len(coords), 7)
    K = lindholm.assemble_rows(coords, tris, rows)
    assert np.allclose(K.sum(axis=1), -omega[rows] / (4 * math.pi), rtol=0, atol=1e-12)
    assert op.memory_bytes() == 8 * len(coords) ** 2


def test_uniformly_magnetised_sphere(sphere):
    """M = e_z in a sphere: u1 = z (Neumann data M·n), u = z/3 inside, so u2 = B u1
    must be −2z/3 on the boundary. A wrong sign of K or inward normals fail this."""
    coords, tris, omega = sphere
    z = coords[:, 2]
    op = DenseBoundaryOperator(coords, tris, omega, COMM)
    assert _rel(op.matvec(z), -2.0 * z / 3.0) < 3e-3
    assert _rel(op.matvec(z + 0.7), -2.0 * z / 3.0 - 0.7) < 3e-3
    flipped = DenseBoundaryOperator(coords, tris[:, [0, 2, 1]], omega, COMM)
    assert _rel(flipped.matvec(z), -2.0 * z / 3.0) > 0.3
    # the H-matrix sees the same physics
    hop = HierarchicalBoundaryOperator(coords, tris, omega, COMM)
    assert _rel(hop.matvec(z), -2.0 * z / 3.0) < 3e-3


def test_inputs_are_checked(sphere):
    coords, tris, omega = sphere
    with pytest.raises(ValueError):
        DenseBoundaryOperator(coords, tris, omega[:-1], COMM)
    with pytest.raises(ValueError):
        DenseBoundaryOperator(coords, tris, omega / (4 * math.pi) - 1.0, COMM)
    with pytest.raises(ValueError):
        lindholm.assemble_rows(coords, tris + len(coords), [0])
    op = DenseBoundaryOperator(coords, tris, omega, COMM)
    with pytest.raises(ValueError):
        op.matvec(np.ones(len(coords) + 1))
    with pytest.raises(ValueError):
        boundary_operator(coords, tris, omega, COMM, method="fmm")


def test_assemble_rows_is_consistent(box):
    """Any subset of rows gives the same numbers; scaling to nm changes nothing."""
    coords, tris, omega = box
    rows = np.array([5, 0, len(coords) - 1, 17])
    K = lindholm.assemble_rows(coords, tris, rows)
    assert K.shape == (4, len(coords))
    one = lindholm.assemble_rows(coords, tris, rows[2:3])
    assert np.array_equal(one[0], K[2])
    nm = lindholm.assemble_rows(coords * 1e-9 + 5e-9, tris, rows)
    assert np.allclose(nm, K, rtol=0, atol=1e-13)
    # a node never couples to its own triangles (coplanar: zero kernel)
    assert np.all(np.isfinite(K))


# ----------------------------------------------------------------------------------
# the H-matrix
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("surface", ["big_sphere", "box"])
def test_hmatrix_matches_dense(surface, request):
    coords, tris, omega = request.getfixturevalue(surface)
    dense = DenseBoundaryOperator(coords, tris, omega, COMM)
    hmat = HierarchicalBoundaryOperator(coords, tris, omega, COMM, tol=1e-6)
    rng = np.random.default_rng(7)
    xs = [rng.standard_normal(len(coords)),
          coords @ np.array([0.3, -0.5, 0.8]) + 0.25]
    for x in xs:
        x = COMM.bcast(x, root=0)
        assert _rel(hmat.matvec(x), dense.matvec(x)) <= 1e-4
    ratio = hmat.compression_ratio()
    assert ratio < (0.4 if surface == "big_sphere" else 0.8), ratio
    stats = hmat.statistics()
    assert stats["low_rank_blocks"] > 0 and stats["dense_blocks"] > 0
    # coarser tolerance: less memory, larger but still controlled error
    coarse = HierarchicalBoundaryOperator(coords, tris, omega, COMM, tol=1e-3)
    assert coarse.memory_bytes() < hmat.memory_bytes()
    err = _rel(coarse.matvec(xs[0]), dense.matvec(xs[0]))
    assert 1e-9 < err < 1e-2


def test_every_low_rank_block_is_accurate(box):
    """Block by block against the exact K: on a box whole sub-blocks vanish (a node
    and the triangles of φ_j in one face plane), which plain partial-pivoting ACA can
    miss; each low-rank block must reach the requested tolerance."""
    coords, tris, omega = box
    surf = lindholm.SurfaceData(coords, tris)
    tree = hmatrix.ClusterTree(surf.coords, 64)
    blocks = hmatrix.block_partition(tree, 2.0)
    blocks = blocks[blocks[:, 4] == 1]
    parts = np.array_split(np.arange(len(blocks)), COMM.size)   # share the work
    mine = hmatrix.HMatrixBlocks(surf, np.zeros(len(coords)), tree, blocks[parts[COMM.rank]])
    K = lindholm.assemble_rows(None, None, tree.perm, surface=surf)[:, tree.perm]
    worst = 0.0
    for b, (rs, re, cs, ce, _) in enumerate(mine.lblocks):
        r, m, n = mine.ranks[b], re - rs, ce - cs
        u = mine.udata[mine.loff_u[b]:mine.loff_u[b] + m * r].reshape(m, r)
        v = mine.vdata[mine.loff_v[b]:mine.loff_v[b] + n * r].reshape(n, r)
        exact = K[rs:re, cs:ce]
        err = np.linalg.norm(exact - u @ v.T)
        if err > 1e-12 * np.linalg.norm(K):     # skip blocks that are negligible overall
            worst = max(worst, err / np.linalg.norm(exact))
    assert COMM.allreduce(worst, op=MPI.MAX) < 1e-5
    assert COMM.allreduce(len(mine.lblocks), op=MPI.SUM) > 0.5 * len(blocks)


def test_cluster_tree_and_partition_cover_the_matrix(box):
    coords = lindholm.normalise_coordinates(box[0])
    tree = hmatrix.ClusterTree(coords, leaf_size=32)
    n = len(coords)
    assert np.array_equal(np.sort(tree.perm), np.arange(n))
    leaves = [c for c in range(len(tree)) if tree.is_leaf(c)]
    assert max(tree.end[c] - tree.start[c] for c in leaves) <= 32
    blocks = hmatrix.block_partition(tree, eta=2.0)
    area = (blocks[:, 1] - blocks[:, 0]) * (blocks[:, 3] - blocks[:, 2])
    assert area.sum() == n * n              # the leaves tile the matrix...
    cover = np.zeros((n, n), dtype=np.int8)
    for rs, re, cs, ce, _ in blocks:
        cover[rs:re, cs:ce] += 1
    assert np.all(cover == 1)               # ...exactly once
    for rs, re, cs, ce, adm in blocks[blocks[:, 4] == 1][:50]:
        lo_t, hi_t = coords[tree.perm[rs:re]].min(0), coords[tree.perm[rs:re]].max(0)
        lo_s, hi_s = coords[tree.perm[cs:ce]].min(0), coords[tree.perm[cs:ce]].max(0)
        gap = np.linalg.norm(np.maximum(0, np.maximum(lo_t - hi_s, lo_s - hi_t)))
        assert min(np.linalg.norm(hi_t - lo_t), np.linalg.norm(hi_s - lo_s)) <= 2.0 * gap


def test_hmatrix_blocks_split_over_parts_add_up(sphere):
    """The rank-distribution logic, also when run serially: the blocks assigned to
    parts 0 and 1 of a 2-way split sum to the whole operator."""
    coords, tris, omega = sphere
    surf = lindholm.SurfaceData(coords, tris)
    tree = hmatrix.ClusterTree(surf.coords, 64)
    blocks = hmatrix.block_partition(tree, 2.0)
    from femag.bem.operator import _balance
    owner = _balance((blocks[:, 1] - blocks[:, 0]) * (blocks[:, 3] - blocks[:, 2]), 2)
    assert 0 < np.sum(owner == 0) < len(blocks)
    diag = omega / (4 * math.pi) - 1.0
    whole = hmatrix.HMatrixBlocks(surf, diag, tree, blocks)
    parts = [hmatrix.HMatrixBlocks(surf, diag, tree, blocks[owner == p]) for p in (0, 1)]
    x = np.random.default_rng(1).standard_normal(len(coords))
    y_whole, y_parts = np.zeros(len(coords)), np.zeros(len(coords))
    whole.matvec_add(x, y_whole)
    for part in parts:
        part.matvec_add(x, y_parts)
    assert _rel(y_parts, y_whole) < 1e-13


# ----------------------------------------------------------------------------------
# one rank against all ranks
# ----------------------------------------------------------------------------------
def test_one_rank_and_all_ranks_agree(sphere):
    coords, tris, omega = sphere
    x = COMM.bcast(np.random.default_rng(11).standard_normal(len(coords)), root=0)
    for cls in (DenseBoundaryOperator, HierarchicalBoundaryOperator):
        alone = cls(coords, tris, omega, MPI.COMM_SELF)
        together = cls(coords, tris, omega, COMM)
        y1, y2 = alone.matvec(x), together.matvec(x)
        assert _rel(y2, y1) < 1e-12, cls.__name__
        assert np.array_equal(COMM.bcast(y2, root=0), y2)   # identical on every rank
        if cls is HierarchicalBoundaryOperator:
            assert abs(together.memory_bytes() - alone.memory_bytes()) \
                <= 16 * len(coords) * COMM.size + 4096 * COMM.size


def test_boundary_operator_chooses(sphere):
    coords, tris, omega = sphere
    n = len(coords)
    assert isinstance(boundary_operator(coords, tris, omega, COMM), DenseBoundaryOperator)
    auto_h = boundary_operator(coords, tris, omega, COMM, threshold=n, leaf_size=32)
    assert isinstance(auto_h, HierarchicalBoundaryOperator) and auto_h.leaf_size == 32
    assert isinstance(boundary_operator(coords, tris, omega, COMM, method="hmatrix"),
                      HierarchicalBoundaryOperator)
    assert isinstance(boundary_operator(coords, tris, omega, COMM, method="dense",
                                        threshold=1), DenseBoundaryOperator)
