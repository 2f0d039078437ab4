"""Lindholm's analytic double-layer weights for P1 boundary elements, and solid angles.

For a flat triangle T with corners x_0, x_1, x_2 (counter-clockwise seen from the
side its normal n points to), a target point x and the P1 hat functions λ_j of T,
the weights

    w_j(x) = 1/(4π) ∫_T λ_j(y) (x − y)·n / |x − y|³ dS_y ,        j = 0, 1, 2

are (derivation in docs/bem.md; the result is Lindholm's formula, IEEE Trans. Magn.
20 (1984) 2025, in a form that needs no per-triangle trigonometry beyond one atan2)

    w_j = −1/(4π) [ Ω_T λ_j(p) − ζ Σ_e M_je P_e ]

with
    ζ      = (x − x_0)·n                      height of x above the plane of T,
    p      = x − ζ n                          the projection of x into that plane,
    Ω_T    = ∫_T (y − x)·n/|y − x|³ dS       the signed solid angle of T seen from x
             = 2 atan2(−2A ζ, ρ_0ρ_1ρ_2 + (r_0·r_1)ρ_2 + (r_0·r_2)ρ_1 + (r_1·r_2)ρ_0)
             (van Oosterom & Strackee, IEEE Trans. Biomed. Eng. 30 (1983) 125),
    r_k    = x_k − x, ρ_k = |r_k|, r_a·r_b = (ρ_a² + ρ_b² − s_ab²)/2,
    e_0 = x_1 − x_0, e_1 = x_2 − x_1, e_2 = x_0 − x_2, s_e = |e_e|, A the area,
    P_e    = ∫_{edge e} dl/|x − y| = ln((ρ_a + ρ_b + s_e)/(ρ_a + ρ_b − s_e)),
    M_je   = (e_{j+1} · e_e) / (2 A s_e)      (indices mod 3).

Σ_j M_je = 0, so Σ_j w_j = −Ω_T/(4π) exactly: a row of K sums to minus the solid
angle (over 4π) of the whole surface seen from the row's node.

All kernels work on coordinates normalised to the unit box around the surface (K is
invariant under translation and scaling), so metre-sized inputs (1e-9) are fine.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

__all__ = ["solid_angle_sum", "assemble_rows", "triangle_weights", "triangle_geometry",
           "surface_edges", "normalise_coordinates"]

INV_4PI = 1.0 / (4.0 * math.pi)
#: per-triangle precomputed data, see :func:`_triangle_geometry`
NGEOM = 25
# reassociation/contraction are harmless here; no nnan/ninf (the guards compare floats)
# and no afn (approximate log/atan2 would cost accuracy)
FASTMATH = {"nsz", "arcp", "contract", "reassoc"}
_TINY = 1e-300


# ---------------------------------------------------------------------------------
# solid angles of tetrahedra at their vertices
# ---------------------------------------------------------------------------------
@nb.njit(cache=True, fastmath=FASTMATH)
def _solid_angle_sum(coords, tets, position, out):
    for t in range(tets.shape[0]):
        for k in range(4):
            v = tets[t, k]
            p = position[v]
            if p < 0:
                continue
            a = tets[t, (k + 1) % 4]
            b = tets[t, (k + 2) % 4]
            c = tets[t, (k + 3) % 4]
            ax = coords[a, 0] - coords[v, 0]
            ay = coords[a, 1] - coords[v, 1]
            az = coords[a, 2] - coords[v, 2]
            bx = coords[b, 0] - coords[v, 0]
            by = coords[b, 1] - coords[v, 1]
            bz = coords[b, 2] - coords[v, 2]
            cx = coords[c, 0] - coords[v, 0]
            cy = coords[c, 1] - coords[v, 1]
            cz = coords[c, 2] - coords[v, 2]
            ra = math.sqrt(ax * ax + ay * ay + az * az)
            rb = math.sqrt(bx * bx + by * by + bz * bz)
            rc = math.sqrt(cx * cx + cy * cy + cz * cz)
            triple = abs(ax * (by * cz - bz * cy) + ay * (bz * cx - bx * cz)
                         + az * (bx * cy - by * cx))
            denom = (ra * rb * rc + (ax * bx + ay * by + az * bz) * rc
                     + (ax * cx + ay * cy + az * cz) * rb + (bx * cx + by * cy + bz * cz) * ra)
            out[p] += 2.0 * math.atan2(triple, denom)


def solid_angle_sum(coords, tets, vertices):
    """Sum over `tets` of the solid angle each tetrahedron subtends at each of `vertices`.

    coords (N, 3) float, tets (M, 4) int indices into coords, vertices (k,) int.
    Returns (k,) float64 in steradians; 0 for a vertex in none of the tets. Summed
    over all tetrahedra around a boundary node this is the interior solid angle
    Ω_i (2π on a smooth face, π on a cube edge, π/2 at a cube corner). With a
    distributed mesh, call it on each rank's cells and sum over ranks.
    """
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    tets = np.ascontiguousarray(tets, dtype=np.int64).reshape(-1, 4)
    vertices = np.ascontiguousarray(vertices, dtype=np.int64).ravel()
    position = np.full(coords.shape[0], -1, dtype=np.int64)
    position[vertices] = np.arange(len(vertices), dtype=np.int64)
    out = np.zeros(len(vertices), dtype=np.float64)
    if len(tets) and len(vertices):
        _solid_angle_sum(coords, tets, position, out)
    if len(np.unique(vertices)) != len(vertices):  # duplicates: copy the value found
        out = out[position[vertices]]
    return out


# ---------------------------------------------------------------------------------
# triangle data
# ---------------------------------------------------------------------------------
@nb.njit(cache=True, fastmath=FASTMATH)
def _triangle_geometry(coords, tris, geom):
    """geom[t] = n(3), n·x_0, ∇λ_0(3), λ_0(0), ∇λ_1(3), λ_1(0), M(3×3 row-major), s(3), 2A."""
    for t in range(tris.shape[0]):
        i0, i1, i2 = tris[t, 0], tris[t, 1], tris[t, 2]
        e = np.empty((3, 3))
        for d in range(3):
            e[0, d] = coords[i1, d] - coords[i0, d]
            e[1, d] = coords[i2, d] - coords[i1, d]
            e[2, d] = coords[i0, d] - coords[i2, d]
        # n 2A = e_0 × (x_2 − x_0) = −e_0 × e_2
        cx = -(e[0, 1] * e[2, 2] - e[0, 2] * e[2, 1])
        cy = -(e[0, 2] * e[2, 0] - e[0, 0] * e[2, 2])
        cz = -(e[0, 0] * e[2, 1] - e[0, 1] * e[2, 0])
        two_a = math.sqrt(cx * cx + cy * cy + cz * cz)
        nx, ny, nz = cx / two_a, cy / two_a, cz / two_a
        s = np.empty(3)
        for k in range(3):
            s[k] = math.sqrt(e[k, 0] ** 2 + e[k, 1] ** 2 + e[k, 2] ** 2)
        geom[t, 0] = nx
        geom[t, 1] = ny
        geom[t, 2] = nz
        geom[t, 3] = nx * coords[i0, 0] + ny * coords[i0, 1] + nz * coords[i0, 2]
        # ∇λ_j = n × e_{j+1} / (2A);  λ_j(y) = λ_j(0) + ∇λ_j·y with λ_j(x_j) = 1
        for j in range(2):
            ex, ey, ez = e[j + 1, 0], e[j + 1, 1], e[j + 1, 2]
            gx = (ny * ez - nz * ey) / two_a
            gy = (nz * ex - nx * ez) / two_a
            gz = (nx * ey - ny * ex) / two_a
            xj = tris[t, j]
            geom[t, 4 + 4 * j] = gx
            geom[t, 5 + 4 * j] = gy
            geom[t, 6 + 4 * j] = gz
            geom[t, 7 + 4 * j] = 1.0 - (gx * coords[xj, 0] + gy * coords[xj, 1]
                                        + gz * coords[xj, 2])
        for j in range(3):
            jj = (j + 1) % 3
            for k in range(3):
                geom[t, 12 + 3 * j + k] = (e[jj, 0] * e[k, 0] + e[jj, 1] * e[k, 1]
                                           + e[jj, 2] * e[k, 2]) / (two_a * s[k])
        geom[t, 21] = s[0]
        geom[t, 22] = s[1]
        geom[t, 23] = s[2]
        geom[t, 24] = two_a


def triangle_geometry(coords, triangles):
    """(Nt, NGEOM) array of the per-triangle constants used by the kernels."""
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    triangles = np.ascontiguousarray(triangles, dtype=np.int64).reshape(-1, 3)
    geom = np.empty((len(triangles), NGEOM))
    if len(triangles):
        _triangle_geometry(coords, triangles, geom)
    return geom


def normalise_coordinates(coords):
    """Coordinates moved and scaled into the unit box around their bounding box."""
    coords = np.asarray(coords, dtype=np.float64)
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    scale = float(np.max(hi - lo))
    if not scale > 0:
        raise ValueError("boundary coordinates span no volume")
    return np.ascontiguousarray((coords - 0.5 * (lo + hi)) / scale)


def surface_edges(triangles):
    """Unique edges: (edge_nodes (Ne, 2), tri_edges (Nt, 3)); tri_edges[t, e] is the
    edge from corner e to corner e+1 (mod 3) of triangle t."""
    triangles = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    a = triangles.ravel()
    b = triangles[:, [1, 2, 0]].ravel()
    pairs = np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1)
    edge_nodes, inverse = np.unique(pairs, axis=0, return_inverse=True)
    return (np.ascontiguousarray(edge_nodes, dtype=np.int64),
            np.ascontiguousarray(inverse.reshape(-1, 3), dtype=np.int64))


# ---------------------------------------------------------------------------------
# the Lindholm weights
# ---------------------------------------------------------------------------------
@nb.njit(cache=True, fastmath=FASTMATH, inline="always")
def _edge_log(ra, rb, s):
    """P = ∫ dl/|x−y| over an edge of length s whose ends are at distances ra, rb."""
    den = ra + rb - s
    if den < _TINY:
        den = _TINY
    return math.log1p(2.0 * s / den)


@nb.njit(cache=True, fastmath=FASTMATH, inline="always")
def _weights_from(g, t, x, y, z, r0, r1, r2, p0, p1, p2):
    """(w_0, w_1, w_2) of triangle t (geometry g) at (x, y, z), given the corner
    distances r_k and the edge integrals p_e."""
    zeta = g[t, 0] * x + g[t, 1] * y + g[t, 2] * z - g[t, 3]
    lam0 = g[t, 7] + g[t, 4] * x + g[t, 5] * y + g[t, 6] * z
    lam1 = g[t, 11] + g[t, 8] * x + g[t, 9] * y + g[t, 10] * z
    lam2 = 1.0 - lam0 - lam1
    s0, s1, s2 = g[t, 21], g[t, 22], g[t, 23]
    d01 = 0.5 * (r0 * r0 + r1 * r1 - s0 * s0)
    d12 = 0.5 * (r1 * r1 + r2 * r2 - s1 * s1)
    d02 = 0.5 * (r0 * r0 + r2 * r2 - s2 * s2)
    two_a = g[t, 24]
    denom = r0 * r1 * r2 + d01 * r2 + d02 * r1 + d12 * r0
    omega = 2.0 * math.atan2(-two_a * zeta, denom)
    q0 = g[t, 12] * p0 + g[t, 13] * p1 + g[t, 14] * p2
    q1 = g[t, 15] * p0 + g[t, 16] * p1 + g[t, 17] * p2
    q2 = g[t, 18] * p0 + g[t, 19] * p1 + g[t, 20] * p2
    return (-INV_4PI * (omega * lam0 - zeta * q0),
            -INV_4PI * (omega * lam1 - zeta * q1),
            -INV_4PI * (omega * lam2 - zeta * q2))


@nb.njit(cache=True, fastmath=FASTMATH, inline="always")
def _triangle_weights_at(coords, tris, g, t, x, y, z):
    """(w_0, w_1, w_2) of triangle t at the point (x, y, z) (not a corner of t)."""
    i0, i1, i2 = tris[t, 0], tris[t, 1], tris[t, 2]
    r0 = math.sqrt((coords[i0, 0] - x) ** 2 + (coords[i0, 1] - y) ** 2
                   + (coords[i0, 2] - z) ** 2)
    r1 = math.sqrt((coords[i1, 0] - x) ** 2 + (coords[i1, 1] - y) ** 2
                   + (coords[i1, 2] - z) ** 2)
    r2 = math.sqrt((coords[i2, 0] - x) ** 2 + (coords[i2, 1] - y) ** 2
                   + (coords[i2, 2] - z) ** 2)
    p0 = _edge_log(r0, r1, g[t, 21])
    p1 = _edge_log(r1, r2, g[t, 22])
    p2 = _edge_log(r2, r0, g[t, 23])
    return _weights_from(g, t, x, y, z, r0, r1, r2, p0, p1, p2)


@nb.njit(cache=True, fastmath=FASTMATH)
def _weights_many(coords, tris, geom, targets, out):
    for k in range(targets.shape[0]):
        w0, w1, w2 = _triangle_weights_at(coords, tris, geom, 0,
                                          targets[k, 0], targets[k, 1], targets[k, 2])
        out[k, 0] = w0
        out[k, 1] = w1
        out[k, 2] = w2


def triangle_weights(vertices, targets):
    """Lindholm weights w_j(x) (see the module docstring) of one triangle.

    vertices (3, 3): the corners x_0, x_1, x_2 (normal (x_1−x_0)×(x_2−x_0)); targets
    (n, 3) points off the closed triangle or in its plane outside it. Returns (n, 3).
    """
    vertices = np.asarray(vertices, dtype=np.float64).reshape(3, 3)
    targets = np.asarray(targets, dtype=np.float64).reshape(-1, 3)
    centre = vertices.mean(axis=0)
    scale = float(np.max(np.linalg.norm(vertices - np.roll(vertices, 1, axis=0), axis=1)))
    verts = np.ascontiguousarray((vertices - centre) / scale)
    tgts = np.ascontiguousarray((targets - centre) / scale)
    tris = np.array([[0, 1, 2]], dtype=np.int64)
    geom = triangle_geometry(verts, tris)
    out = np.empty((len(tgts), 3))
    _weights_many(verts, tris, geom, tgts, out)
    return out


# ---------------------------------------------------------------------------------
# dense rows of K
# ---------------------------------------------------------------------------------
#: rows assembled together in one sweep over the triangles (the triangle constants
#: are read once per ROW_BLOCK rows: fewer bytes from memory on large surfaces)
ROW_BLOCK = 4


@nb.njit(cache=True, fastmath=FASTMATH)
def _assemble_rows(coords, tris, geom, edge_nodes, edge_len, tri_edges, rows, out):
    """out[r, :] += K[rows[r], :]. Per row: one distance per node, one edge integral
    per edge (each edge is shared by two triangles), then one atan2 per triangle;
    ROW_BLOCK rows share each sweep over the triangles."""
    n_nodes = coords.shape[0]
    n_edges = edge_nodes.shape[0]
    n_tris = tris.shape[0]
    R = ROW_BLOCK
    rho = np.empty((n_nodes, R))
    pe = np.empty((n_edges, R))
    xs = np.empty((R, 3))
    ids = np.empty(R, dtype=np.int64)
    for r0 in range(0, rows.shape[0], R):
        nr = min(R, rows.shape[0] - r0)
        for b in range(R):
            i = rows[r0 + min(b, nr - 1)]       # pad a short last block with its last row
            ids[b] = i
            xs[b, 0], xs[b, 1], xs[b, 2] = coords[i, 0], coords[i, 1], coords[i, 2]
        for v in range(n_nodes):
            for b in range(R):
                dx = coords[v, 0] - xs[b, 0]
                dy = coords[v, 1] - xs[b, 1]
                dz = coords[v, 2] - xs[b, 2]
                rho[v, b] = math.sqrt(dx * dx + dy * dy + dz * dz)
        for e in range(n_edges):
            a, c = edge_nodes[e, 0], edge_nodes[e, 1]
            for b in range(R):
                pe[e, b] = _edge_log(rho[a, b], rho[c, b], edge_len[e])
        for t in range(n_tris):
            i0, i1, i2 = tris[t, 0], tris[t, 1], tris[t, 2]
            e0, e1, e2 = tri_edges[t, 0], tri_edges[t, 1], tri_edges[t, 2]
            for b in range(nr):
                i = ids[b]
                if i0 == i or i1 == i or i2 == i:
                    continue  # x_i lies in the plane of t: the kernel vanishes there
                w0, w1, w2 = _weights_from(geom, t, xs[b, 0], xs[b, 1], xs[b, 2],
                                           rho[i0, b], rho[i1, b], rho[i2, b],
                                           pe[e0, b], pe[e1, b], pe[e2, b])
                out[r0 + b, i0] += w0
                out[r0 + b, i1] += w1
                out[r0 + b, i2] += w2


class SurfaceData:
    """Normalised coordinates, triangles and the per-triangle/per-edge constants."""

    def __init__(self, coords, triangles):
        coords = np.asarray(coords, dtype=np.float64).reshape(-1, 3)
        self.triangles = np.ascontiguousarray(triangles, dtype=np.int64).reshape(-1, 3)
        self.n_nodes = len(coords)
        if len(self.triangles) and (self.triangles.min() < 0
                                    or self.triangles.max() >= self.n_nodes):
            raise ValueError("triangle indices out of range of the boundary coordinates")
        self.coords = normalise_coordinates(coords)
        self.geom = triangle_geometry(self.coords, self.triangles)
        if len(self.triangles) and not np.all(self.geom[:, 24] > 0):
            raise ValueError("degenerate (zero-area) boundary triangle")
        self.edge_nodes, self.tri_edges = surface_edges(self.triangles)
        self.edge_len = np.linalg.norm(self.coords[self.edge_nodes[:, 1]]
                                       - self.coords[self.edge_nodes[:, 0]], axis=1)


def assemble_rows(coords, triangles, rows, surface=None):
    """Rows of the double-layer matrix K (without the solid-angle diagonal term).

    coords (Nb, 3): all boundary node coordinates; triangles (Nt, 3) int indices into
    coords, counter-clockwise seen from outside (outward normals); rows: the
    boundary-node indices to assemble. Returns K[rows, :] as a (len(rows), Nb) array,
    K_ij = 1/(4π) ∫_Γ φ_j(y) (x_i − y)·n(y)/|x_i − y|³ dS_y.
    `surface` (a :class:`SurfaceData` of the same surface) saves recomputing the
    triangle constants when rows are assembled in several calls.
    """
    data = surface if surface is not None else SurfaceData(coords, triangles)
    rows = np.ascontiguousarray(rows, dtype=np.int64).ravel()
    if len(rows) and (rows.min() < 0 or rows.max() >= data.n_nodes):
        raise ValueError("row index out of range")
    out = np.zeros((len(rows), data.n_nodes))
    if len(rows) and len(data.triangles):
        _assemble_rows(data.coords, data.triangles, data.geom, data.edge_nodes,
                       data.edge_len, data.tri_edges, rows, out)
    return out
