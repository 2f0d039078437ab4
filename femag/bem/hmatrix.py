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
  residuals must be small as well (as in ACA+; they catch the zero sub-blocks that
  flat faces create, where x_i and the triangles of φ_j are coplanar), then
  recompressed by QR + SVD to the same relative tolerance.
* entries: K_ij is summed over the triangles adjacent to node j (node→triangle
  adjacency in CSR form); a row of a block evaluates each triangle touching the
  column cluster once and scatters its three Lindholm weights.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from .lindholm import FASTMATH, INV_4PI, _triangle_weights_at

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
# ---------------------------------------------------------------------------------
@nb.njit(cache=True)
def _cluster_triangles(cs, ce, perm, adj_ptr, adj_idx, stamp, mark, buf):
    """Triangles touching the nodes perm[cs:ce], each once, into buf; returns count."""
    count = 0
    for q in range(cs, ce):
        v = perm[q]
        for a in range(adj_ptr[v], adj_ptr[v + 1]):
            t = adj_idx[a]
            if stamp[t] != mark:
                stamp[t] = mark
                buf[count] = t
                count += 1
    return count


@nb.njit(cache=True, fastmath=FASTMATH)
def _eval_row(i, cs, ce, iperm, coords, tris, geom, tlist, ntl, out):
    """out[q] = K[i, perm[cs + q]] for q < ce − cs (tlist: the triangles touching σ)."""
    n = ce - cs
    for q in range(n):
        out[q] = 0.0
    x, y, z = coords[i, 0], coords[i, 1], coords[i, 2]
    for k in range(ntl):
        t = tlist[k]
        i0, i1, i2 = tris[t, 0], tris[t, 1], tris[t, 2]
        if i0 == i or i1 == i or i2 == i:
            continue
        w0, w1, w2 = _triangle_weights_at(coords, tris, geom, t, x, y, z)
        p = iperm[i0] - cs
        if 0 <= p < n:
            out[p] += w0
        p = iperm[i1] - cs
        if 0 <= p < n:
            out[p] += w1
        p = iperm[i2] - cs
        if 0 <= p < n:
            out[p] += w2


@nb.njit(cache=True, fastmath=FASTMATH)
def _eval_col(j, rs, re, perm, coords, tris, geom, adj_ptr, adj_idx, out):
    """out[q] = K[perm[rs + q], j] for q < re − rs."""
    for r in range(rs, re):
        i = perm[r]
        x, y, z = coords[i, 0], coords[i, 1], coords[i, 2]
        acc = 0.0
        for a in range(adj_ptr[j], adj_ptr[j + 1]):
            t = adj_idx[a]
            i0, i1, i2 = tris[t, 0], tris[t, 1], tris[t, 2]
            if i0 == i or i1 == i or i2 == i:
                continue
            w0, w1, w2 = _triangle_weights_at(coords, tris, geom, t, x, y, z)
            if i0 == j:
                acc += w0
            elif i1 == j:
                acc += w1
            else:
                acc += w2
        out[r - rs] = acc


@nb.njit(cache=True, fastmath=FASTMATH)
def _dense_blocks(blocks, offsets, data, perm, iperm, coords, tris, geom, adj_ptr, adj_idx,
                  diag):
    """Fill the dense blocks (rows of `blocks`) of B into data (row-major per block)."""
    nt = tris.shape[0]
    stamp = np.full(nt, -1, dtype=np.int64)
    tlist = np.empty(nt, dtype=np.int64)
    for b in range(blocks.shape[0]):
        rs, re, cs, ce = blocks[b, 0], blocks[b, 1], blocks[b, 2], blocks[b, 3]
        n = ce - cs
        ntl = _cluster_triangles(cs, ce, perm, adj_ptr, adj_idx, stamp, b, tlist)
        for r in range(rs, re):
            off = offsets[b] + (r - rs) * n
            _eval_row(perm[r], cs, ce, iperm, coords, tris, geom, tlist, ntl,
                      data[off:off + n])
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


@nb.njit(cache=True)
def _next_unused(used, state):
    """A pseudo-random unused index (deterministic LCG), −1 if none."""
    n = used.shape[0]
    state[0] = (state[0] * 6364136223846793005 + 1442695040888963407) & 0x7FFFFFFFFFFFFFFF
    q0 = (state[0] >> 17) % n
    for d in range(n):
        q = (q0 + d) % n
        if not used[q]:
            return q
    return -1


@nb.njit(cache=True, fastmath=FASTMATH)
def _residual_row(i, k, U, V, rs, cs, ce, perm, iperm, coords, tris, geom, tlist, ntl, out):
    _eval_row(perm[rs + i], cs, ce, iperm, coords, tris, geom, tlist, ntl, out)
    n = ce - cs
    for l in range(k):
        a = U[l, i]
        if a != 0.0:
            for q in range(n):
                out[q] -= a * V[l, q]


@nb.njit(cache=True, fastmath=FASTMATH)
def _residual_col(j, k, U, V, rs, re, cs, perm, coords, tris, geom, adj_ptr, adj_idx, out):
    _eval_col(perm[cs + j], rs, re, perm, coords, tris, geom, adj_ptr, adj_idx, out)
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
def _aca(rs, re, cs, ce, perm, iperm, coords, tris, geom, adj_ptr, adj_idx, stamp, mark,
         tlist, tol, zero_tol, max_rank):
    """ACA with partial pivoting and reference row/column of the block rows rs:re,
    columns cs:ce (permuted numbering). Returns (k, U (k, m), V (k, n)) with
    block ≈ Uᵀ V, or k = −1 when the rank would exceed max_rank."""
    m = re - rs
    n = ce - cs
    ntl = _cluster_triangles(cs, ce, perm, adj_ptr, adj_idx, stamp, mark, tlist)
    cap = max(1, min(max_rank, m, n))
    U = np.zeros((cap, m))
    V = np.zeros((cap, n))
    used_r = np.zeros(m, dtype=np.bool_)
    used_c = np.zeros(n, dtype=np.bool_)
    row = np.empty(n)
    col = np.empty(m)
    rref = np.empty(n)
    cref = np.empty(m)
    state = np.array([mark * 2654435761 + m * 40503 + n], dtype=np.int64)
    floor2 = zero_tol * zero_tol * m * n      # a block below this Frobenius² is zero
    iref = _next_unused(used_r, state)
    _residual_row(iref, 0, U, V, rs, cs, ce, perm, iperm, coords, tris, geom, tlist, ntl,
                  rref)
    jref = _next_unused(used_c, state)
    _residual_col(jref, 0, U, V, rs, re, cs, perm, coords, tris, geom, adj_ptr, adj_idx, cref)
    k = 0
    norm2 = 0.0
    next_i = -1
    fresh = False   # references redrawn since the last pivot
    misses = 0
    while True:
        # ---- pivot row
        if next_i >= 0:
            i = next_i
            _residual_row(i, k, U, V, rs, cs, ce, perm, iperm, coords, tris, geom, tlist,
                          ntl, row)
        else:
            ia = _argmax_unused(cref, used_r)
            ja = _argmax_unused(rref, used_c)
            a = abs(cref[ia]) if ia >= 0 else 0.0
            b = abs(rref[ja]) if ja >= 0 else 0.0
            if max(a, b) <= zero_tol:
                return k, U[:k], V[:k]      # nothing left that the references can see
            if a >= b:
                i = ia
                _residual_row(i, k, U, V, rs, cs, ce, perm, iperm, coords, tris, geom,
                              tlist, ntl, row)
            else:
                _residual_col(ja, k, U, V, rs, re, cs, perm, coords, tris, geom, adj_ptr,
                              adj_idx, col)
                i = _argmax_unused(col, used_r)
                if i < 0:
                    return k, U[:k], V[:k]
                _residual_row(i, k, U, V, rs, cs, ce, perm, iperm, coords, tris, geom,
                              tlist, ntl, row)
        used_r[i] = True
        j = _argmax_unused(row, used_c)
        if j < 0 or abs(row[j]) <= zero_tol:
            # a (numerically) zero residual row: pivot elsewhere next time
            misses += 1
            next_i = -1
            if i == iref:
                iref = _next_unused(used_r, state)
                if iref < 0:
                    return k, U[:k], V[:k]
                _residual_row(iref, k, U, V, rs, cs, ce, perm, iperm, coords, tris, geom,
                              tlist, ntl, rref)
            if misses > 2 * cap + 8:
                return k, U[:k], V[:k]
            continue
        if k >= cap or 2 * (k + 1) * (m + n) > 3 * m * n:
            return -1, U[:0], V[:0]     # not worth it: the caller stores the block dense
        _residual_col(j, k, U, V, rs, re, cs, perm, coords, tris, geom, adj_ptr, adj_idx, col)
        used_c[j] = True
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
        # update the references
        fv = V[k, jref]
        for q in range(m):
            cref[q] -= U[k, q] * fv
        fu = U[k, iref]
        for q in range(n):
            rref[q] -= fu * V[k, q]
        k += 1
        fresh = False
        if used_r[iref]:
            iref = _next_unused(used_r, state)
            if iref >= 0:
                _residual_row(iref, k, U, V, rs, cs, ce, perm, iperm, coords, tris, geom,
                              tlist, ntl, rref)
        if used_c[jref]:
            jref = _next_unused(used_c, state)
            if jref >= 0:
                _residual_col(jref, k, U, V, rs, re, cs, perm, coords, tris, geom, adj_ptr,
                              adj_idx, cref)
        if iref < 0 or jref < 0:
            return k, U[:k], V[:k]          # every row or every column is a pivot
        limit2 = max(tol * tol * norm2, floor2)
        if (nu * nv) ** 2 > limit2:
            next_i = _argmax_unused(U[k - 1], used_r)
            continue
        # converged by the standard criterion: ask the references as well, and once
        # with freshly drawn ones (they see rows/columns no pivot has touched)
        while True:
            ref_ok = (_norm(rref) ** 2 * m <= limit2) and (_norm(cref) ** 2 * n <= limit2)
            if not ref_ok:
                next_i = -1
                break
            if fresh:
                return k, U[:k], V[:k]
            fresh = True
            iref = _next_unused(used_r, state)
            jref = _next_unused(used_c, state)
            if iref < 0 or jref < 0:
                return k, U[:k], V[:k]
            _residual_row(iref, k, U, V, rs, cs, ce, perm, iperm, coords, tris, geom, tlist,
                          ntl, rref)
            _residual_col(jref, k, U, V, rs, re, cs, perm, coords, tris, geom, adj_ptr,
                          adj_idx, cref)


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


def _recompress(U, V, tol, zero_tol):
    """Uᵀ V (U (k, m), V (k, n)) -> (A (m, r), C (n, r)) with A Cᵀ ≈ Uᵀ V in Frobenius
    norm to relative `tol` (and absolute zero_tol·√(mn))."""
    m, n = U.shape[1], V.shape[1]
    qu, ru = np.linalg.qr(U.T)
    qv, rv = np.linalg.qr(V.T)
    w, s, zt = np.linalg.svd(ru @ rv.T)
    tail = np.sqrt(np.cumsum((s ** 2)[::-1]))[::-1]     # tail[r] = ‖s[r:]‖
    limit = max(tol * (tail[0] if len(tail) else 0.0), zero_tol * np.sqrt(m * n))
    r = int(np.sum(tail > limit))
    a = np.ascontiguousarray(qu @ (w[:, :r] * s[:r]))
    c = np.ascontiguousarray(qv @ zt[:r].T)
    return a, c


class HMatrixBlocks:
    """The blocks of B owned by one rank, built from a shared cluster tree/partition.

    surface: lindholm.SurfaceData; diag: (Nb,) the diagonal term Ω_i/4π − 1;
    blocks: rows of :func:`block_partition` assigned to this rank.
    """

    def __init__(self, surface, diag, tree, blocks, tol=1e-6, max_rank=None):
        nodes = surface.n_nodes
        adj_ptr, adj_idx = node_triangle_adjacency(surface.triangles, nodes)
        coords, tris, geom = surface.coords, surface.triangles, surface.geom
        perm, iperm = tree.perm, tree.iperm
        # entries below zero_tol change no row of B x by more than 1e-3·tol·max|x|
        zero_tol = 1e-3 * tol / max(nodes, 1)
        adm = blocks[:, 4] == 1
        dense = [blocks[~adm]]
        lowrank, us, vs, ranks = [], [], [], []
        nt = len(tris)
        stamp = np.full(nt, -1, dtype=np.int64)
        tlist = np.empty(nt, dtype=np.int64)
        self.aca_ranks = []
        for b, blk in enumerate(blocks[adm]):
            rs, re, cs, ce = (int(v) for v in blk[:4])
            m, n = re - rs, ce - cs
            cap = max_rank if max_rank else min(m, n)
            k, U, V = _aca(rs, re, cs, ce, perm, iperm, coords, tris, geom, adj_ptr,
                           adj_idx, stamp, b, tlist, tol, zero_tol, cap)
            if k < 0:
                dense.append(blk[None, :])
                continue
            self.aca_ranks.append(k)
            if k > 0:
                a, c = _recompress(U, V, tol, zero_tol)
            else:
                a, c = np.zeros((m, 0)), np.zeros((n, 0))
            if a.shape[1] * (m + n) >= m * n:
                dense.append(blk[None, :])
                continue
            lowrank.append(blk)
            us.append(a.ravel())
            vs.append(c.ravel())
            ranks.append(a.shape[1])
        self.dblocks = np.ascontiguousarray(np.concatenate(dense).reshape(-1, 5))
        sizes = (self.dblocks[:, 1] - self.dblocks[:, 0]) * (self.dblocks[:, 3]
                                                             - self.dblocks[:, 2])
        self.doff = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=self.doff[1:])
        self.ddata = np.empty(int(self.doff[-1]))
        if len(self.dblocks):
            _dense_blocks(self.dblocks, self.doff, self.ddata, perm, iperm, coords, tris, geom,
                          adj_ptr, adj_idx, np.ascontiguousarray(diag, dtype=np.float64))
        self.lblocks = np.ascontiguousarray(np.array(lowrank, dtype=np.int64).reshape(-1, 5))
        self.ranks = np.array(ranks, dtype=np.int64)
        lu = np.array([len(u) for u in us], dtype=np.int64)
        lv = np.array([len(v) for v in vs], dtype=np.int64)
        self.loff_u = np.concatenate([[0], np.cumsum(lu)]).astype(np.int64)
        self.loff_v = np.concatenate([[0], np.cumsum(lv)]).astype(np.int64)
        self.udata = np.concatenate(us) if us else np.zeros(0)
        self.vdata = np.concatenate(vs) if vs else np.zeros(0)
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
