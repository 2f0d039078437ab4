"""Hierarchical (H-) matrix of the BEM operator B = K + diag(Ω/4π − 1).

* cluster tree: the boundary nodes are split recursively by bisecting their bounding
  box across its longest side (at the median when the midpoint leaves a side empty)
  until a cluster holds at most `leaf_size` nodes. Clusters are contiguous ranges of
  a node permutation.
* block partition: a pair (τ, σ) is admissible when
  min(diam τ, diam σ) ≤ η dist(τ, σ) (bounding-box diameters and distance);
  admissible pairs become low-rank blocks, other pairs are split (both clusters, or
  the one that is not a leaf) down to dense leaf blocks.
* low-rank blocks: adaptive cross approximation with partial pivoting, stopped when
  ‖u_k‖‖v_k‖ ≤ tol ‖S_k‖_F, guarded by a reference row and a reference column whose
  residuals must be small as well (as in ACA+), and then by two more pairs drawn
  afresh; references are drawn farthest (in position and node normal) from all rows
  and columns seen so far. They catch the zero sub-blocks that flat faces create
  (x_i coplanar with the triangles of φ_j), which can hide part of a block from the
  pivots. Then recompressed by QR + SVD to the same relative tolerance; blocks that
  would not save memory are stored dense.
* entries: K_ij is summed over the triangles adjacent to node j (node→triangle
  adjacency in CSR form); a row of a block evaluates each triangle touching the
  column cluster once and scatters its three Lindholm weights, with the node
  distances and edge integrals shared between neighbouring triangles.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from .lindholm import FASTMATH, _edge_log, _weights_from

__all__ = ["ClusterTree", "block_partition", "node_triangle_adjacency", "HMatrixBlocks"]


# ---------------------------------------------------------------------------------
# cluster tree and block partition (small: plain Python/numpy)
# ---------------------------------------------------------------------------------
class ClusterTree:
    """Binary cluster tree of points by bounding-box bisection.

    Attributes: perm (node order; a cluster is perm[start:end]), iperm (its inverse),
    start, end, left, right (child ids, −1 for leaves), lo, hi (bounding boxes).
    """

    def __init__(self, points, leaf_size=64):
        points = np.asarray(points, dtype=np.float64)
        n = len(points)
        leaf_size = max(int(leaf_size), 1)
        perm = np.arange(n, dtype=np.int64)
        start, end, left, right, lo, hi = [], [], [], [], [], []

        def new(s, e):
            p = points[perm[s:e]]
            start.append(s)
            end.append(e)
            left.append(-1)
            right.append(-1)
            lo.append(p.min(axis=0) if e > s else np.zeros(3))
            hi.append(p.max(axis=0) if e > s else np.zeros(3))
            return len(start) - 1

        stack = [new(0, n)]
        while stack:
            c = stack.pop()
            s, e = start[c], end[c]
            if e - s <= leaf_size:
                continue
            axis = int(np.argmax(hi[c] - lo[c]))
            if hi[c][axis] <= lo[c][axis]:
                continue  # all points coincide
            idx = perm[s:e]
            coord = points[idx, axis]
            mid = 0.5 * (lo[c][axis] + hi[c][axis])
            below = coord < mid
            nb_ = int(below.sum())
            if nb_ == 0 or nb_ == len(idx):
                order = np.argsort(coord, kind="stable")
                idx = idx[order]
                nb_ = len(idx) // 2
            else:
                idx = np.concatenate([idx[below], idx[~below]])
            perm[s:e] = idx
            a, b = new(s, s + nb_), new(s + nb_, e)
            left[c], right[c] = a, b
            stack.extend([b, a])
        self.perm = perm
        self.iperm = np.empty(n, dtype=np.int64)
        self.iperm[perm] = np.arange(n, dtype=np.int64)
        self.start = np.array(start, dtype=np.int64)
        self.end = np.array(end, dtype=np.int64)
        self.left = np.array(left, dtype=np.int64)
        self.right = np.array(right, dtype=np.int64)
        self.lo = np.array(lo).reshape(-1, 3)
        self.hi = np.array(hi).reshape(-1, 3)

    def __len__(self):
        return len(self.start)

    def is_leaf(self, c):
        return self.left[c] < 0

    def diameter(self, c):
        return float(np.linalg.norm(self.hi[c] - self.lo[c]))

    def distance(self, a, b):
        gap = np.maximum(0.0, np.maximum(self.lo[a] - self.hi[b], self.lo[b] - self.hi[a]))
        return float(np.linalg.norm(gap))


def block_partition(tree, eta=2.0):
    """Leaf blocks of the block cluster tree: (nblocks, 5) int64 rows
    (row_start, row_end, col_start, col_end, admissible) in permuted numbering."""
    blocks = []
    stack = [(0, 0)]
    while stack:
        t, s = stack.pop()
        if tree.end[t] == tree.start[t] or tree.end[s] == tree.start[s]:
            continue
        if min(tree.diameter(t), tree.diameter(s)) <= eta * tree.distance(t, s):
            blocks.append((tree.start[t], tree.end[t], tree.start[s], tree.end[s], 1))
            continue
        tl, sl = tree.is_leaf(t), tree.is_leaf(s)
        if tl and sl:
            blocks.append((tree.start[t], tree.end[t], tree.start[s], tree.end[s], 0))
        elif tl:
            stack.extend([(t, tree.right[s]), (t, tree.left[s])])
        elif sl:
            stack.extend([(tree.right[t], s), (tree.left[t], s)])
        else:
            stack.extend([(tree.right[t], tree.right[s]), (tree.right[t], tree.left[s]),
                          (tree.left[t], tree.right[s]), (tree.left[t], tree.left[s])])
    out = np.array(blocks, dtype=np.int64).reshape(-1, 5)
    order = np.lexsort((out[:, 2], out[:, 0]))
    return np.ascontiguousarray(out[order])


def node_triangle_adjacency(triangles, n_nodes):
    """CSR (ptr, idx): the triangles adjacent to node v are idx[ptr[v]:ptr[v+1]]."""
    triangles = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    nodes = triangles.ravel()
    tri_ids = np.repeat(np.arange(len(triangles), dtype=np.int64), 3)
    order = np.argsort(nodes, kind="stable")
    counts = np.bincount(nodes, minlength=n_nodes)
    ptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr, np.ascontiguousarray(tri_ids[order])

# ---------------------------------------------------------------------------------
# entries of K in numba
#
# ctx = (coords, tris, geom, tri_edges, edge_nodes, edge_len, perm, iperm, adj_ptr,
#        adj_idx, features): the normalised surface, the cluster numbering, and the
#        node features of node_features().
# A "patch" is a set of triangles with their distinct nodes and edges numbered
# locally, so that one evaluation point needs one distance per node and one edge
# integral per edge (shared by the triangles on both sides) instead of three each per
# triangle: patch = (tlist, ltn, lte, lcol, pn, pen, pelen, rho, pv).
# ---------------------------------------------------------------------------------
@nb.njit(cache=True)
def _new_scratch(n_nodes, n_edges, n_tris):
    return (np.full(n_nodes, -1, dtype=np.int64), np.empty(n_nodes, dtype=np.int64),
            np.full(n_edges, -1, dtype=np.int64), np.empty(n_edges, dtype=np.int64),
            np.full(n_tris, -1, dtype=np.int64), np.zeros(1, dtype=np.int64))


@nb.njit(cache=True)
def _cluster_triangles(cs, ce, ctx, scratch):
    """The triangles touching the nodes perm[cs:ce], each once."""
    perm, adj_ptr, adj_idx = ctx[6], ctx[8], ctx[9]
    tstamp, counter = scratch[4], scratch[5]
    counter[0] += 1
    mark = counter[0]
    count = 0
    for q in range(cs, ce):
        v = perm[q]
        count += adj_ptr[v + 1] - adj_ptr[v]
    out = np.empty(count, dtype=np.int64)
    count = 0
    for q in range(cs, ce):
        v = perm[q]
        for a in range(adj_ptr[v], adj_ptr[v + 1]):
            t = adj_idx[a]
            if tstamp[t] != mark:
                tstamp[t] = mark
                out[count] = t
                count += 1
    return out[:count]


@nb.njit(cache=True)
def _patch(tlist, cs, ce, ctx, scratch):
    """Local numbering of the nodes and edges of the triangles tlist; lcol[k, c] is
    the column (within cs:ce, permuted numbering) of corner c of tlist[k], or −1."""
    tris, tri_edges, edge_nodes, edge_len, iperm = ctx[1], ctx[3], ctx[4], ctx[5], ctx[7]
    nstamp, nloc, estamp, eloc, counter = scratch[0], scratch[1], scratch[2], scratch[3], \
        scratch[5]
    counter[0] += 1
    mark = counter[0]
    ntl = tlist.shape[0]
    ltn = np.empty((ntl, 3), dtype=np.int64)
    lte = np.empty((ntl, 3), dtype=np.int64)
    lcol = np.empty((ntl, 3), dtype=np.int64)
    pn = np.empty(3 * ntl, dtype=np.int64)
    pe = np.empty(3 * ntl, dtype=np.int64)
    nn = 0
    ne = 0
    for k in range(ntl):
        t = tlist[k]
        for c in range(3):
            v = tris[t, c]
            if nstamp[v] != mark:
                nstamp[v] = mark
                nloc[v] = nn
                pn[nn] = v
                nn += 1
            ltn[k, c] = nloc[v]
            p = iperm[v]
            lcol[k, c] = p - cs if cs <= p < ce else -1
            e = tri_edges[t, c]
            if estamp[e] != mark:
                estamp[e] = mark
                eloc[e] = ne
                pe[ne] = e
                ne += 1
            lte[k, c] = eloc[e]
    pen = np.empty((ne, 2), dtype=np.int64)
    pelen = np.empty(ne)
    for q in range(ne):
        e = pe[q]
        pen[q, 0] = nloc[edge_nodes[e, 0]]
        pen[q, 1] = nloc[edge_nodes[e, 1]]
        pelen[q] = edge_len[e]
    return (tlist, ltn, lte, lcol, pn[:nn].copy(), pen, pelen, np.empty(nn), np.empty(ne))


@nb.njit(cache=True, fastmath=FASTMATH)
def _patch_prepare(i, patch, ctx):
    """Distances and edge integrals of the patch seen from node i."""
    coords = ctx[0]
    pn, pen, pelen, rho, pv = patch[4], patch[5], patch[6], patch[7], patch[8]
    x, y, z = coords[i, 0], coords[i, 1], coords[i, 2]
    for q in range(pn.shape[0]):
        v = pn[q]
        dx = coords[v, 0] - x
        dy = coords[v, 1] - y
        dz = coords[v, 2] - z
        rho[q] = math.sqrt(dx * dx + dy * dy + dz * dz)
    for q in range(pen.shape[0]):
        pv[q] = _edge_log(rho[pen[q, 0]], rho[pen[q, 1]], pelen[q])


@nb.njit(cache=True, fastmath=FASTMATH)
def _eval_row(i, n, patch, ctx, out):
    """out[q] = K[i, perm[cs + q]], q < n, patch: the triangles touching the columns."""
    coords, tris, geom = ctx[0], ctx[1], ctx[2]
    tlist, ltn, lte, lcol, rho, pv = patch[0], patch[1], patch[2], patch[3], patch[7], patch[8]
    for q in range(n):
        out[q] = 0.0
    _patch_prepare(i, patch, ctx)
    x, y, z = coords[i, 0], coords[i, 1], coords[i, 2]
    for k in range(tlist.shape[0]):
        t = tlist[k]
        if tris[t, 0] == i or tris[t, 1] == i or tris[t, 2] == i:
            continue  # x_i lies in the plane of t: no contribution
        w0, w1, w2 = _weights_from(geom, t, x, y, z, rho[ltn[k, 0]], rho[ltn[k, 1]],
                                   rho[ltn[k, 2]], pv[lte[k, 0]], pv[lte[k, 1]],
                                   pv[lte[k, 2]])
        if lcol[k, 0] >= 0:
            out[lcol[k, 0]] += w0
        if lcol[k, 1] >= 0:
            out[lcol[k, 1]] += w1
        if lcol[k, 2] >= 0:
            out[lcol[k, 2]] += w2


@nb.njit(cache=True, fastmath=FASTMATH)
def _eval_col(j, rs, re, ctx, scratch, out):
    """out[q] = K[perm[rs + q], j], q < re − rs: over the triangles adjacent to j."""
    coords, tris, geom, perm, adj_ptr, adj_idx = ctx[0], ctx[1], ctx[2], ctx[6], ctx[8], \
        ctx[9]
    patch = _patch(adj_idx[adj_ptr[j]:adj_ptr[j + 1]], 0, 0, ctx, scratch)
    tlist, ltn, lte, rho, pv = patch[0], patch[1], patch[2], patch[7], patch[8]
    ntl = tlist.shape[0]
    corner = np.empty(ntl, dtype=np.int64)
    for k in range(ntl):
        t = tlist[k]
        corner[k] = 0 if tris[t, 0] == j else (1 if tris[t, 1] == j else 2)
    for r in range(rs, re):
        i = perm[r]
        _patch_prepare(i, patch, ctx)
        x, y, z = coords[i, 0], coords[i, 1], coords[i, 2]
        acc = 0.0
        for k in range(ntl):
            t = tlist[k]
            if tris[t, 0] == i or tris[t, 1] == i or tris[t, 2] == i:
                continue
            w0, w1, w2 = _weights_from(geom, t, x, y, z, rho[ltn[k, 0]], rho[ltn[k, 1]],
                                       rho[ltn[k, 2]], pv[lte[k, 0]], pv[lte[k, 1]],
                                       pv[lte[k, 2]])
            c = corner[k]
            acc += w0 if c == 0 else (w1 if c == 1 else w2)
        out[r - rs] = acc


@nb.njit(cache=True, fastmath=FASTMATH)
def _dense_blocks(blocks, offsets, data, ctx, scratch, diag):
    """Fill the dense blocks (rows of `blocks`) of B into data (row-major per block)."""
    perm = ctx[6]
    for b in range(blocks.shape[0]):
        rs, re, cs, ce = blocks[b, 0], blocks[b, 1], blocks[b, 2], blocks[b, 3]
        n = ce - cs
        patch = _patch(_cluster_triangles(cs, ce, ctx, scratch), cs, ce, ctx, scratch)
        for r in range(rs, re):
            off = offsets[b] + (r - rs) * n
            _eval_row(perm[r], n, patch, ctx, data[off:off + n])
            if cs <= r < ce:
                data[off + r - cs] += diag[perm[r]]


@nb.njit(cache=True)
def _argmax_unused(v, used):
    best, arg = -1.0, -1
    for q in range(v.shape[0]):
        if not used[q]:
            a = abs(v[q])
            if a > best:
                best, arg = a, q
    return arg


@nb.njit(cache=True, fastmath=FASTMATH)
def _scale2(coords, perm, start, count):
    """1/diam² of the bounding box of the nodes perm[start:start+count]."""
    lo = np.full(3, np.inf)
    hi = np.full(3, -np.inf)
    for q in range(start, start + count):
        v = perm[q]
        for d in range(3):
            lo[d] = min(lo[d], coords[v, d])
            hi[d] = max(hi[d], coords[v, d])
    diam2 = 0.0
    for d in range(3):
        diam2 += (hi[d] - lo[d]) ** 2
    return 1.0 / diam2 if diam2 > 0.0 else 1.0


@nb.njit(cache=True, fastmath=FASTMATH)
def _spread(feat, perm, start, q, mind, scale2):
    """mind[p] = min(mind[p], d²(p, q)) with d² = scale2·|x_p − x_q|² + |n_p − n_q|²
    (position over the cluster diameter, and the node normal)."""
    v = perm[start + q]
    for p in range(mind.shape[0]):
        u = perm[start + p]
        dpos = ((feat[u, 0] - feat[v, 0]) ** 2 + (feat[u, 1] - feat[v, 1]) ** 2
                + (feat[u, 2] - feat[v, 2]) ** 2)
        dnor = ((feat[u, 3] - feat[v, 3]) ** 2 + (feat[u, 4] - feat[v, 4]) ** 2
                + (feat[u, 5] - feat[v, 5]) ** 2)
        d = scale2 * dpos + dnor
        if d < mind[p]:
            mind[p] = d


@nb.njit(cache=True)
def _farthest_unused(mind, used):
    """The unused index farthest from every row/column looked at so far, −1 if none."""
    best, arg = -1.0, -1
    for p in range(mind.shape[0]):
        if not used[p] and mind[p] > best:
            best, arg = mind[p], p
    return arg


@nb.njit(cache=True, fastmath=FASTMATH)
def _residual_row(i, k, U, V, rs, n, patch, ctx, out):
    _eval_row(ctx[6][rs + i], n, patch, ctx, out)
    for l in range(k):
        a = U[l, i]
        if a != 0.0:
            for q in range(n):
                out[q] -= a * V[l, q]


@nb.njit(cache=True, fastmath=FASTMATH)
def _residual_col(j, k, U, V, rs, re, cs, ctx, scratch, out):
    _eval_col(ctx[6][cs + j], rs, re, ctx, scratch, out)
    m = re - rs
    for l in range(k):
        a = V[l, j]
        if a != 0.0:
            for q in range(m):
                out[q] -= a * U[l, q]


@nb.njit(cache=True, fastmath=FASTMATH)
def _norm(v):
    s = 0.0
    for q in range(v.shape[0]):
        s += v[q] * v[q]
    return np.sqrt(s)


@nb.njit(cache=True, fastmath=FASTMATH)
def _aca(rs, re, cs, ce, patch, ctx, scratch, tol, zero_tol, cap):
    """ACA with partial pivoting of the block rows rs:re × columns cs:ce (permuted
    numbering; patch: the triangles touching the columns), guarded by a reference
    row and column (as in ACA+). Returns (k, U (k, m), V (k, n)), block ≈ Uᵀ V, or
    k = −1 when the approximation would not save memory.

    Stopping: ‖u_k‖‖v_k‖ ≤ tol‖S_k‖_F, and the residuals of the reference row and
    column extrapolated to the block below the same bound, and still so for two more
    reference pairs drawn afresh. References are drawn farthest (in position over the
    cluster size, and in node normal) from every row/column looked at so far: on flat
    faces whole sub-blocks of K vanish (x_i coplanar with the triangles of φ_j), and
    pivots can stay in one face group while another group's coupling goes unseen."""
    coords, perm, feat = ctx[0], ctx[6], ctx[10]
    m = re - rs
    n = ce - cs
    cap = max(1, min(cap, m, n))
    U = np.zeros((cap, m))
    V = np.zeros((cap, n))
    used_r = np.zeros(m, dtype=np.bool_)
    used_c = np.zeros(n, dtype=np.bool_)
    mind_r = np.full(m, np.inf)
    mind_c = np.full(n, np.inf)
    sr2 = _scale2(coords, perm, rs, m)
    sc2 = _scale2(coords, perm, cs, n)
    row = np.empty(n)
    col = np.empty(m)
    rref = np.empty(n)
    cref = np.empty(m)
    floor2 = zero_tol * zero_tol * m * n      # a block below this Frobenius² is zero
    iref = _farthest_unused(mind_r, used_r)
    _spread(feat, perm, rs, iref, mind_r, sr2)
    _residual_row(iref, 0, U, V, rs, n, patch, ctx, rref)
    jref = _farthest_unused(mind_c, used_c)
    _spread(feat, perm, cs, jref, mind_c, sc2)
    _residual_col(jref, 0, U, V, rs, re, cs, ctx, scratch, cref)
    k = 0
    norm2 = 0.0
    next_i = -1
    misses = 0
    for _ in range(4 * (m + n) + 16):
        limit2 = max(tol * tol * norm2, floor2)
        check = False
        if next_i >= 0:
            i = next_i
            _residual_row(i, k, U, V, rs, n, patch, ctx, row)
        elif (_norm(rref) ** 2 * m <= limit2) and (_norm(cref) ** 2 * n <= limit2):
            check = True      # the references see nothing left
        else:
            ia = _argmax_unused(cref, used_r)
            ja = _argmax_unused(rref, used_c)
            a = abs(cref[ia]) if ia >= 0 else 0.0
            b = abs(rref[ja]) if ja >= 0 else 0.0
            if a >= b:
                i = ia
                _residual_row(i, k, U, V, rs, n, patch, ctx, row)
            else:
                _residual_col(ja, k, U, V, rs, re, cs, ctx, scratch, col)
                i = _argmax_unused(col, used_r)
                if i < 0:
                    return k, U[:k], V[:k]
                _residual_row(i, k, U, V, rs, n, patch, ctx, row)
        if not check:
            used_r[i] = True
            _spread(feat, perm, rs, i, mind_r, sr2)
            j = _argmax_unused(row, used_c)
            if j < 0 or abs(row[j]) <= zero_tol:
                # a (numerically) zero residual row: pivot elsewhere next time
                misses += 1
                next_i = -1
                if misses > 2 * cap + 8:
                    return k, U[:k], V[:k]
                continue
            if k >= cap or 2 * (k + 1) * (m + n) > 3 * m * n:
                return -1, U[:0], V[:0]     # not worth it: the caller stores it dense
            _residual_col(j, k, U, V, rs, re, cs, ctx, scratch, col)
            used_c[j] = True
            _spread(feat, perm, cs, j, mind_c, sc2)
            piv = row[j]
            for q in range(m):
                U[k, q] = col[q] / piv
            for q in range(n):
                V[k, q] = row[q]
            # ‖S_k‖_F² = ‖S_{k−1}‖_F² + 2 Σ_l (u_l·u_k)(v_l·v_k) + ‖u_k‖²‖v_k‖²
            cross = 0.0
            for l in range(k):
                su = 0.0
                for q in range(m):
                    su += U[l, q] * U[k, q]
                sv = 0.0
                for q in range(n):
                    sv += V[l, q] * V[k, q]
                cross += su * sv
            nu = _norm(U[k])
            nv = _norm(V[k])
            norm2 = abs(norm2 + 2.0 * cross + (nu * nv) ** 2)
            # update the reference residuals; replace a reference that became a pivot
            fv = V[k, jref]
            for q in range(m):
                cref[q] -= U[k, q] * fv
            fu = U[k, iref]
            for q in range(n):
                rref[q] -= fu * V[k, q]
            k += 1
            if used_r[iref]:
                iref = _farthest_unused(mind_r, used_r)
                if iref < 0:
                    return k, U[:k], V[:k]          # every row is a pivot
                _spread(feat, perm, rs, iref, mind_r, sr2)
                _residual_row(iref, k, U, V, rs, n, patch, ctx, rref)
            if used_c[jref]:
                jref = _farthest_unused(mind_c, used_c)
                if jref < 0:
                    return k, U[:k], V[:k]          # every column is a pivot
                _spread(feat, perm, cs, jref, mind_c, sc2)
                _residual_col(jref, k, U, V, rs, re, cs, ctx, scratch, cref)
            limit2 = max(tol * tol * norm2, floor2)
            if (nu * nv) ** 2 > limit2:
                next_i = _argmax_unused(U[k - 1], used_r)
                continue
        # converged by the standard criterion (or the references see nothing): the
        # references must agree, and two more pairs drawn afresh as well
        next_i = -1
        for extra in range(3):
            if not ((_norm(rref) ** 2 * m <= limit2) and (_norm(cref) ** 2 * n <= limit2)):
                break
            if extra == 2:
                return k, U[:k], V[:k]
            iref = _farthest_unused(mind_r, used_r)
            jref = _farthest_unused(mind_c, used_c)
            if iref < 0 or jref < 0:
                return k, U[:k], V[:k]
            _spread(feat, perm, rs, iref, mind_r, sr2)
            _spread(feat, perm, cs, jref, mind_c, sc2)
            _residual_row(iref, k, U, V, rs, n, patch, ctx, rref)
            _residual_col(jref, k, U, V, rs, re, cs, ctx, scratch, cref)
    return k, U[:k], V[:k]


@nb.njit(cache=True)
def _recompress(U, V, tol, zero_tol):
    """Uᵀ V (U (k, m), V (k, n), k ≤ m, n) -> (A (m, r), C (n, r)), A Cᵀ ≈ Uᵀ V to
    relative `tol` in the Frobenius norm (and absolute zero_tol·√(mn)): QR of both
    factors, SVD of the small core, truncation."""
    m, n = U.shape[1], V.shape[1]
    qu, ru = np.linalg.qr(np.ascontiguousarray(U.T))
    qv, rv = np.linalg.qr(np.ascontiguousarray(V.T))
    w, s, zt = np.linalg.svd(ru @ np.ascontiguousarray(rv.T))
    total = 0.0
    for q in range(s.shape[0]):
        total += s[q] * s[q]
    limit2 = max(tol * tol * total, zero_tol * zero_tol * m * n)
    r = s.shape[0]
    tail = 0.0
    while r > 0 and tail + s[r - 1] * s[r - 1] <= limit2:
        tail += s[r - 1] * s[r - 1]
        r -= 1
    ws = np.ascontiguousarray(w[:, :r]) * s[:r]
    a = np.ascontiguousarray(np.ascontiguousarray(qu) @ ws)
    c = np.ascontiguousarray(np.ascontiguousarray(qv) @ np.ascontiguousarray(zt[:r].T))
    return a, c


@nb.njit(cache=True)
def _grow(buf, used, need):
    if used + need <= buf.shape[0]:
        return buf
    new = np.empty(max(2 * buf.shape[0], used + need))
    new[:used] = buf[:used]
    return new


@nb.njit(cache=True)
def _lowrank_blocks(blocks, ctx, scratch, tol, zero_tol):
    """ACA + recompression of every block; returns (ranks (−1: store dense), U data,
    V data, U offsets, V offsets, ACA ranks). U of block b: (m, r) row-major."""
    nblk = blocks.shape[0]
    ranks = np.empty(nblk, dtype=np.int64)
    aca_ranks = np.empty(nblk, dtype=np.int64)
    offu = np.zeros(nblk + 1, dtype=np.int64)
    offv = np.zeros(nblk + 1, dtype=np.int64)
    udata = np.empty(1024)
    vdata = np.empty(1024)
    for b in range(nblk):
        rs, re, cs, ce = blocks[b, 0], blocks[b, 1], blocks[b, 2], blocks[b, 3]
        m, n = re - rs, ce - cs
        patch = _patch(_cluster_triangles(cs, ce, ctx, scratch), cs, ce, ctx, scratch)
        k, U, V = _aca(rs, re, cs, ce, patch, ctx, scratch, tol, zero_tol, min(m, n))
        aca_ranks[b] = k
        r = -1
        if k == 0:
            r = 0
        elif k > 0:
            a, c = _recompress(U, V, tol, zero_tol)
            r = a.shape[1]
            if r * (m + n) >= m * n:
                r = -1
            else:
                udata = _grow(udata, offu[b], m * r)
                vdata = _grow(vdata, offv[b], n * r)
                udata[offu[b]:offu[b] + m * r] = a.ravel()
                vdata[offv[b]:offv[b] + n * r] = c.ravel()
        ranks[b] = r
        offu[b + 1] = offu[b] + m * max(r, 0)
        offv[b + 1] = offv[b] + n * max(r, 0)
    return ranks, udata[:offu[nblk]].copy(), vdata[:offv[nblk]].copy(), offu, offv, aca_ranks


@nb.njit(cache=True, fastmath=FASTMATH)
def _hmatvec(xp, yp, dblocks, doff, ddata, lblocks, loff_u, loff_v, ranks, udata, vdata, tmp):
    """yp += Σ_blocks block · xp (permuted numbering). Dense blocks row-major;
    low-rank blocks U (m, r) and V (n, r) row-major, block = U Vᵀ."""
    for b in range(dblocks.shape[0]):
        rs, re, cs, ce = dblocks[b, 0], dblocks[b, 1], dblocks[b, 2], dblocks[b, 3]
        n = ce - cs
        off = doff[b]
        for r in range(rs, re):
            acc = 0.0
            base = off + (r - rs) * n
            for q in range(n):
                acc += ddata[base + q] * xp[cs + q]
            yp[r] += acc
    for b in range(lblocks.shape[0]):
        rs, re, cs, ce = lblocks[b, 0], lblocks[b, 1], lblocks[b, 2], lblocks[b, 3]
        k = ranks[b]
        if k == 0:
            continue
        for l in range(k):
            tmp[l] = 0.0
        ov = loff_v[b]
        for q in range(ce - cs):
            xq = xp[cs + q]
            base = ov + q * k
            for l in range(k):
                tmp[l] += vdata[base + l] * xq
        ou = loff_u[b]
        for r in range(rs, re):
            base = ou + (r - rs) * k
            acc = 0.0
            for l in range(k):
                acc += udata[base + l] * tmp[l]
            yp[r] += acc


def node_features(surface):
    """(Nb, 6): node coordinates and unit node normals (area-weighted mean of the
    adjacent triangles' normals), the space in which ACA spreads its references."""
    weighted = surface.geom[:, 0:3] * surface.geom[:, 24:25]
    normals = np.zeros((surface.n_nodes, 3))
    for c in range(3):
        np.add.at(normals, surface.triangles[:, c], weighted)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    normals /= np.where(length > 0, length, 1.0)
    return np.ascontiguousarray(np.hstack([surface.coords, normals]))


class HMatrixBlocks:
    """The blocks of B owned by one rank, built from a shared cluster tree/partition.

    surface: lindholm.SurfaceData; diag: (Nb,) the diagonal term Ω_i/4π − 1;
    blocks: rows of :func:`block_partition` assigned to this rank.
    """

    def __init__(self, surface, diag, tree, blocks, tol=1e-6):
        nodes = surface.n_nodes
        adj_ptr, adj_idx = node_triangle_adjacency(surface.triangles, nodes)
        ctx = (surface.coords, surface.triangles, surface.geom, surface.tri_edges,
               surface.edge_nodes, surface.edge_len, tree.perm, tree.iperm, adj_ptr, adj_idx,
               node_features(surface))
        scratch = _new_scratch(nodes, len(surface.edge_nodes), len(surface.triangles))
        # entries below zero_tol change no entry of B x by more than 1e-3·tol·max|x|
        zero_tol = 1e-3 * tol / max(nodes, 1)
        blocks = np.ascontiguousarray(blocks, dtype=np.int64).reshape(-1, 5)
        adm = blocks[:, 4] == 1
        lr = np.ascontiguousarray(blocks[adm])
        if len(lr):
            ranks, udata, vdata, offu, offv, aca_ranks = _lowrank_blocks(
                lr, ctx, scratch, float(tol), float(zero_tol))
        else:
            ranks = aca_ranks = np.zeros(0, dtype=np.int64)
            udata = vdata = np.zeros(0)
            offu = offv = np.zeros(1, dtype=np.int64)
        keep = ranks >= 0
        self.aca_ranks = aca_ranks[aca_ranks >= 0]
        self.lblocks = np.ascontiguousarray(lr[keep])
        self.ranks = np.ascontiguousarray(ranks[keep])
        self.loff_u = np.ascontiguousarray(offu[:-1][keep])
        self.loff_v = np.ascontiguousarray(offv[:-1][keep])
        self.udata, self.vdata = udata, vdata
        self.dblocks = np.ascontiguousarray(np.concatenate([blocks[~adm], lr[~keep]]))
        sizes = (self.dblocks[:, 1] - self.dblocks[:, 0]) * (self.dblocks[:, 3]
                                                             - self.dblocks[:, 2])
        self.doff = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=self.doff[1:])
        self.ddata = np.empty(int(self.doff[-1]))
        if len(self.dblocks):
            _dense_blocks(self.dblocks, self.doff, self.ddata, ctx, scratch,
                          np.ascontiguousarray(diag, dtype=np.float64))
        self.tmp = np.empty(max(1, int(self.ranks.max()) if len(self.ranks) else 1))

    def data_bytes(self):
        return self.ddata.nbytes + self.udata.nbytes + self.vdata.nbytes

    def index_bytes(self):
        return sum(a.nbytes for a in (self.dblocks, self.doff, self.lblocks, self.ranks,
                                      self.loff_u, self.loff_v))

    def matvec_add(self, xp, yp):
        """yp += (local blocks) · xp, both in the cluster-tree numbering."""
        _hmatvec(xp, yp, self.dblocks, self.doff, self.ddata, self.lblocks, self.loff_u,
                 self.loff_v, self.ranks, self.udata, self.vdata, self.tmp)
