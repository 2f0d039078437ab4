"""The Fredkin–Koehler boundary operator B = K + diag(Ω/4π − 1), distributed over MPI.

On the boundary Γ the second FK potential is u2 = B u1 with

    B_ij = K_ij + δ_ij (Ω_i/(4π) − 1),
    K_ij = 1/(4π) ∫_Γ φ_j(y) (x_i − y)·n(y) / |x_i − y|³ dS_y,

n the outward normal and Ω_i the interior solid angle at boundary node i. Two
implementations share one interface:

* :class:`DenseBoundaryOperator`: rows of B in contiguous blocks over the ranks,
  matvec = local block product + Allgatherv.
* :class:`HierarchicalBoundaryOperator`: an H-matrix (see :mod:`femag.bem.hmatrix`),
  its blocks spread over the ranks balanced by estimated cost, matvec = local partial
  product + Allreduce.

Every rank passes the full boundary (coords, triangles, solid_angles); `matvec`
takes the full boundary vector (identical on every rank) and returns the full
result on every rank. Both are collective over `comm`.
"""
from __future__ import annotations

import heapq
import math

import numpy as np
from mpi4py import MPI

from .hmatrix import ClusterTree, HMatrixBlocks, block_partition
from .lindholm import SurfaceData, assemble_rows

__all__ = ["DenseBoundaryOperator", "HierarchicalBoundaryOperator", "boundary_operator"]


def _check_inputs(coords, triangles, solid_angles):
    coords = np.ascontiguousarray(coords, dtype=np.float64).reshape(-1, 3)
    triangles = np.ascontiguousarray(triangles, dtype=np.int64).reshape(-1, 3)
    solid_angles = np.ascontiguousarray(solid_angles, dtype=np.float64).ravel()
    if len(solid_angles) != len(coords):
        raise ValueError(f"{len(solid_angles)} solid angles for {len(coords)} boundary nodes")
    if not np.all((solid_angles > 0) & (solid_angles < 4 * math.pi)):
        raise ValueError("interior solid angles must lie in (0, 4π): pass Ω_i in steradians "
                         "(2π on a smooth face), summed over all ranks' tetrahedra")
    return coords, triangles, solid_angles


class _BoundaryOperatorBase:
    comm: MPI.Comm
    n: int
    assembly_time: float

    @property
    def shape(self):
        return (self.n, self.n)

    def dense_memory_bytes(self):
        """Bytes the full dense matrix would take (8 Nb²)."""
        return 8 * self.n * self.n

    def compression_ratio(self):
        """memory_bytes() / dense_memory_bytes() (collective)."""
        return self.memory_bytes() / self.dense_memory_bytes()

    def _check_x(self, x):
        x = np.ascontiguousarray(x, dtype=np.float64).ravel()
        if len(x) != self.n:
            raise ValueError(f"vector of length {len(x)} for a boundary of {self.n} nodes")
        return x

    def __call__(self, x):
        return self.matvec(x)


class DenseBoundaryOperator(_BoundaryOperatorBase):
    """Dense B with rows in contiguous blocks over the ranks of `comm`."""

    def __init__(self, coords, triangles, solid_angles, comm=MPI.COMM_WORLD):
        comm.Barrier()
        t0 = MPI.Wtime()
        coords, triangles, solid_angles = _check_inputs(coords, triangles, solid_angles)
        self.comm = comm
        self.n = n = len(coords)
        size, rank = comm.size, comm.rank
        bounds = [n * r // size for r in range(size + 1)]
        self.counts = np.diff(bounds).astype(np.int64)
        self.displs = np.array(bounds[:-1], dtype=np.int64)
        self.row_range = (bounds[rank], bounds[rank + 1])
        rows = np.arange(*self.row_range, dtype=np.int64)
        surface = SurfaceData(coords, triangles)
        self.block = assemble_rows(None, None, rows, surface=surface)
        self.block[np.arange(len(rows)), rows] += solid_angles[rows] / (4 * math.pi) - 1.0
        self.assembly_time = comm.allreduce(MPI.Wtime() - t0, op=MPI.MAX)

    def matvec(self, x):
        """y = B x; x and y full boundary vectors on every rank (collective)."""
        x = self._check_x(x)
        local = self.block @ x
        y = np.empty(self.n)
        self.comm.Allgatherv(local, [y, self.counts, self.displs, MPI.DOUBLE])
        return y

    def memory_bytes(self):
        """Bytes of matrix storage summed over the ranks (collective)."""
        return self.comm.allreduce(int(self.block.nbytes), op=MPI.SUM)


def _balance(costs, nparts):
    """Greedy longest-processing-time assignment of items to parts (deterministic)."""
    order = np.argsort(-np.asarray(costs, dtype=np.float64), kind="stable")
    heap = [(0.0, p) for p in range(nparts)]
    owner = np.empty(len(costs), dtype=np.int64)
    for i in order:
        load, p = heapq.heappop(heap)
        owner[i] = p
        heapq.heappush(heap, (load + float(costs[i]), p))
    return owner


class HierarchicalBoundaryOperator(_BoundaryOperatorBase):
    """H-matrix B: low-rank far-field blocks by ACA + recompression, dense near field.

    tol: relative accuracy of each low-rank block (Frobenius norm); eta: admissibility
    parameter (min(diam τ, diam σ) ≤ η dist(τ, σ)); leaf_size: largest cluster that is
    not split. The blocks are spread over the ranks of `comm` balanced by estimated cost.
    """

    #: estimated rank of an admissible block, for load balancing only
    RANK_ESTIMATE = 12

    def __init__(self, coords, triangles, solid_angles, comm=MPI.COMM_WORLD, tol=1e-6,
                 eta=2.0, leaf_size=64):
        comm.Barrier()
        t0 = MPI.Wtime()
        coords, triangles, solid_angles = _check_inputs(coords, triangles, solid_angles)
        if not (tol > 0 and eta > 0 and leaf_size >= 1):
            raise ValueError("tol and eta must be positive and leaf_size ≥ 1")
        self.comm = comm
        self.n = len(coords)
        self.tol, self.eta, self.leaf_size = float(tol), float(eta), int(leaf_size)
        surface = SurfaceData(coords, triangles)
        self.tree = ClusterTree(surface.coords, leaf_size)
        blocks = block_partition(self.tree, eta)
        m = blocks[:, 1] - blocks[:, 0]
        n = blocks[:, 3] - blocks[:, 2]
        # work: a dense entry evaluates ~2 triangles; a low-rank block ~k rows and columns
        # (a column entry evaluates ~6 triangles)
        cost = np.where(blocks[:, 4] == 1, self.RANK_ESTIMATE * (2 * n + 6 * m) + 3 * (m + n),
                        2 * m * n)
        owner = _balance(cost, comm.size)
        self.n_blocks = len(blocks)
        self.n_admissible = int(np.sum(blocks[:, 4]))
        diag = solid_angles / (4 * math.pi) - 1.0
        self.local = HMatrixBlocks(surface, diag, self.tree, blocks[owner == comm.rank],
                                   tol=tol)
        self.assembly_time = comm.allreduce(MPI.Wtime() - t0, op=MPI.MAX)

    def matvec(self, x):
        """y = B x; x and y full boundary vectors on every rank (collective)."""
        x = self._check_x(x)
        xp = np.ascontiguousarray(x[self.tree.perm])
        yp = np.zeros(self.n)
        self.local.matvec_add(xp, yp)
        self.comm.Allreduce(MPI.IN_PLACE, yp, op=MPI.SUM)
        y = np.empty(self.n)
        y[self.tree.perm] = yp
        return y

    def memory_bytes(self):
        """Bytes of matrix storage (blocks, their index arrays, the node permutation)
        summed over the ranks (collective)."""
        local = self.local.data_bytes() + self.local.index_bytes() + 2 * self.tree.perm.nbytes
        return self.comm.allreduce(int(local), op=MPI.SUM)

    def statistics(self):
        """Block counts and ranks (collective)."""
        ranks = self.comm.allgather(self.local.ranks)
        ranks = np.concatenate(ranks) if ranks else np.zeros(0, dtype=np.int64)
        dense = self.comm.allreduce(len(self.local.dblocks), op=MPI.SUM)
        return {"blocks": self.n_blocks, "admissible": self.n_admissible,
                "dense_blocks": dense, "low_rank_blocks": len(ranks),
                "max_rank": int(ranks.max()) if len(ranks) else 0,
                "mean_rank": float(ranks.mean()) if len(ranks) else 0.0,
                "clusters": len(self.tree)}


def boundary_operator(coords, triangles, solid_angles, comm=MPI.COMM_WORLD, method="auto",
                      threshold=8000, **kw):
    """B as a dense operator for fewer than `threshold` boundary nodes, else an H-matrix.

    method "dense" or "hmatrix" forces the choice; `kw` (tol, eta, leaf_size) go to
    :class:`HierarchicalBoundaryOperator`.
    """
    if method not in ("auto", "dense", "hmatrix"):
        raise ValueError(f"method must be 'auto', 'dense' or 'hmatrix', not {method!r}")
    n = len(coords)
    if method == "dense" or (method == "auto" and n < threshold):
        return DenseBoundaryOperator(coords, triangles, solid_angles, comm)
    return HierarchicalBoundaryOperator(coords, triangles, solid_angles, comm, **kw)
