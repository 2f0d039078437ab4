"""The demagnetising field by the Fredkin–Koehler hybrid FEM/BEM method.

With M = Ms m (A/m) in the magnet Ω and the magnetic scalar potential u (A),
H_d = −∇u (A/m), u is split as u = u₁ + u₂ (Fredkin & Koehler, IEEE Trans. Magn. 26,
415 (1990)):

1. u₁ solves the Neumann problem  Δu₁ = ∇·M in Ω, ∂u₁/∂n = M·n on Γ = ∂Ω, weakly

       ∫_Ω ∇u₁·∇v dx = ∫_Ω M·∇v dx   for all P1 v,

   singular with one constant per connected body in its null space; the right-hand
   side is orthogonal to it, and PETSc's CG works in the complement (the null space
   is attached to the matrix and removed from the right-hand side; no node is pinned).
2. On Γ, u₂ = B u₁ with B = K + diag(Ω_i/4π − 1) (:mod:`femag.bem`: Lindholm's
   double-layer weights, Ω_i the interior solid angle at boundary node i).
3. u₂ solves Laplace's equation in Ω with these Dirichlet values.
4. H_d = −∇(u₁ + u₂), projected onto the P1 vector space with the lumped volume mass:
   H_i = −∫ ∇u φ_i dx / ∫ φ_i dx.

The energy is E_d = −(μ₀/2) ∫ M·H_d dx = (μ₀/2) ∫ Ms m·∇u dx = (μ₀/2) Σ_i u_i b_i
with b the right-hand side of step 1 (the exact FE gradient, not the projected field).

Everything that does not depend on m is built once in :meth:`Demag.setup`: the
boundary (gathered to every rank), B, the stiffness matrix (Neumann), the Dirichlet
matrix, the m → b and u → ∫∇u φ matrices, both KSPs (CG + BoomerAMG, GAMG without
hypre) with their preconditioners. One evaluation is then two sparse products, two
warm-started CG solves, one boundary gather, one B product and one lifting product.
"""
from __future__ import annotations

import math
import time

import numpy as np
import ufl
from mpi4py import MPI
from petsc4py import PETSc

from . import compat
from .bem.lindholm import solid_angle_sum
from .bem.operator import boundary_operator
from .material import MU0
from .mesh import MeshError
from .petsc_options import AMG_OPTIONS, default_amg, with_default_options
from .term import Term

__all__ = ["Demag", "DemagSolverError", "exterior_surface", "component_labels"]

#: facet k of a reference tetrahedron is opposite vertex k (DOLFINx/UFC numbering)
_FACET_VERTICES = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]], dtype=np.int64)


class DemagSolverError(RuntimeError):
    """A Poisson solve of the demagnetising field did not converge."""


# --------------------------------------------------------------------------------------
# boundary surface of a distributed mesh
# --------------------------------------------------------------------------------------
class Surface:
    """The exterior boundary, the same on every rank, in a rank-independent numbering.

    Attributes: coords (Nb, 3) m, triangles (Nt, 3) outward, solid_angles (Nb,) sr,
    position (n_local_dofs,) boundary index of each local P1 dof or −1.
    """

    def __init__(self, coords, triangles, solid_angles, position):
        self.coords, self.triangles = coords, triangles
        self.solid_angles, self.position = solid_angles, position

    @property
    def n_nodes(self):
        return len(self.coords)


def _cell_dofs(space):
    return compat.cell_dofs(space).reshape(-1, 4)


def exterior_surface(space, comm):
    """Exterior boundary of the mesh of the scalar P1 `space` (collective).

    Boundary facets are those of one (owned) cell; each triangle is turned so its normal
    points away from the cell's fourth vertex. Nodes are numbered by sorted coordinates
    and triangles sorted, so the surface (and B) do not depend on the partition.
    Ω_i is summed over every rank's owned cells. Raises MeshError if the surface is not
    closed.
    """
    dmesh = space.mesh
    topo = dmesh.topology
    n_cells = topo.index_map(3).size_local
    imap = space.dofmap.index_map
    n_local = imap.size_local + imap.num_ghosts
    X = compat.interpolation_coordinates(space)
    gids = np.asarray(imap.local_to_global(np.arange(n_local, dtype=np.int32)), dtype=np.int64)
    dofs = _cell_dofs(space)

    f2c = compat.create_connectivity(dmesh, 2, 3)
    c2f = compat.create_connectivity(dmesh, 3, 2)
    facets = np.asarray(compat.dolfinx.mesh.exterior_facet_indices(topo), dtype=np.int64)
    offsets = np.asarray(f2c.offsets)
    cells = np.asarray(f2c.array)[offsets[facets]]
    keep = cells < n_cells  # with ghost cells a facet could appear on two ranks
    facets, cells = facets[keep], cells[keep]
    cell_facets = np.asarray(c2f.array).reshape(-1, 4)[cells]
    k = np.argmax(cell_facets == facets[:, None], axis=1)
    tri = np.take_along_axis(dofs[cells], _FACET_VERTICES[k], axis=1)
    opposite = dofs[cells, k]
    a, b, c = X[tri[:, 0]], X[tri[:, 1]], X[tri[:, 2]]
    inward = np.einsum("ij,ij->i", np.cross(b - a, c - a), X[opposite] - a) > 0
    tri[inward] = tri[inward][:, [0, 2, 1]]

    # gather: triangles in global dof ids, coordinates of their nodes
    mine = np.unique(tri)
    parts = comm.allgather((gids[tri], gids[mine], X[mine]))
    tri_g = np.concatenate([p[0] for p in parts]).reshape(-1, 3)
    node_g = np.concatenate([p[1] for p in parts])
    node_x = np.concatenate([p[2] for p in parts]).reshape(-1, 3)
    node_g, first = np.unique(node_g, return_index=True)
    node_x = node_x[first]
    order = np.lexsort((node_x[:, 2], node_x[:, 1], node_x[:, 0]))
    rank_of = np.empty(len(order), dtype=np.int64)  # sorted-gid index -> boundary index
    rank_of[order] = np.arange(len(order))
    coords = np.ascontiguousarray(node_x[order])
    triangles = rank_of[np.searchsorted(node_g, tri_g)]
    # canonical form: smallest index first (orientation kept), rows sorted, duplicates dropped
    shift = np.argmin(triangles, axis=1)
    idx = (shift[:, None] + np.arange(3)[None, :]) % 3
    triangles = np.unique(np.take_along_axis(triangles, idx, axis=1), axis=0)
    _check_closed(triangles)

    position = np.full(n_local, -1, dtype=np.int64)
    loc = np.searchsorted(node_g, gids)
    hit = (loc < len(node_g)) & (node_g[np.minimum(loc, len(node_g) - 1)] == gids)
    position[hit] = rank_of[loc[hit]]
    local_b = np.flatnonzero(hit)
    omega = np.zeros(len(coords))
    omega[position[local_b]] = solid_angle_sum(X, dofs[:n_cells], local_b)
    comm.Allreduce(MPI.IN_PLACE, omega, op=MPI.SUM)
    return Surface(coords, np.ascontiguousarray(triangles), omega, position)


def _check_closed(triangles):
    """Every directed edge (a, b) must be matched by an edge (b, a): a closed surface."""
    if not len(triangles):
        raise MeshError("the mesh has no exterior boundary facets")
    n = int(triangles.max()) + 1
    a, b = triangles.ravel(), np.roll(triangles, -1, axis=1).ravel()
    if not np.array_equal(np.sort(a * n + b), np.sort(b * n + a)):
        raise MeshError("the magnet's exterior boundary is not a closed oriented surface; "
                        "the demagnetising field needs a conforming tetrahedral mesh of "
                        "closed bodies")


# --------------------------------------------------------------------------------------
# connected bodies (the null space of the Neumann problem)
# --------------------------------------------------------------------------------------
def component_labels(space, comm):
    """(labels of the owned P1 dofs, number of bodies): connected parts of the mesh.

    Each rank labels the components of its owned cells; components that share a dof
    across ranks are merged (only the shared dofs are exchanged). Collective."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    imap = space.dofmap.index_map
    n_owned = imap.size_local
    n_local = n_owned + imap.num_ghosts
    dofs = _cell_dofs(space)[:space.mesh.topology.index_map(3).size_local]
    rows = np.repeat(dofs[:, 0], 3)
    cols = dofs[:, 1:].ravel()
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_local, n_local))
    n_comp, local = connected_components(graph, directed=False)
    offset = comm.exscan(n_comp) or 0
    total = comm.allreduce(n_comp)
    # dofs seen by more than one rank: the ghosts here, and owned dofs ghosted elsewhere
    shared = compat.dolfinx.fem.Function(space)
    shared.x.array[n_owned:] = 1.0
    compat.ghost_update_add(compat.petsc_vector(shared))
    is_shared = np.flatnonzero(shared.x.array[:n_local] != 0.0)
    is_shared = np.union1d(is_shared, np.arange(n_owned, n_local))
    gids = np.asarray(imap.local_to_global(is_shared.astype(np.int32)), dtype=np.int64)
    pairs = comm.allgather(np.stack([gids, local[is_shared] + offset]))
    pairs = np.concatenate(pairs, axis=1)
    # join the components listed for the same dof: bipartite graph components × dofs
    _, dof_index = np.unique(pairs[0], return_inverse=True)
    n_dofs = int(dof_index.max()) + 1 if len(dof_index) else 0
    link = coo_matrix((np.ones(pairs.shape[1]), (pairs[1], total + dof_index)),
                      shape=(total + n_dofs, total + n_dofs))
    _, merged = connected_components(link, directed=False)
    body = merged[:total]
    _, body = np.unique(body, return_inverse=True)  # consecutive ids 0..n_bodies-1
    return body[local[:n_owned] + offset], int(body.max()) + 1


def _null_space(space, comm):
    """PETSc NullSpace of the Neumann stiffness: the indicator of each body, normalised."""
    labels, n_bodies = component_labels(space, comm)
    counts = comm.allreduce(np.bincount(labels, minlength=n_bodies), op=MPI.SUM)
    vectors = []
    for c in range(n_bodies):
        f = compat.dolfinx.fem.Function(space)
        f.x.array[:len(labels)] = (labels == c) / math.sqrt(counts[c])
        vec = compat.petsc_vector(f).copy()
        vectors.append(vec)
    return PETSc.NullSpace().create(vectors=vectors, comm=comm), n_bodies


# --------------------------------------------------------------------------------------
# the term
# --------------------------------------------------------------------------------------
class Demag(Term):
    """Demagnetising field (Fredkin–Koehler FEM/BEM), H in A/m, E in J.

    Parameters
    ----------
    method : "auto" | "dense" | "hmatrix"
        Storage of the boundary matrix B: dense rows over the ranks, or an H-matrix
        (ACA+); "auto" takes the H-matrix from `threshold` boundary nodes on.
    threshold : int
        Boundary-node count from which "auto" uses the H-matrix.
    hmatrix : dict, optional
        Options of the H-matrix (tol=1e-6, eta=2.0, leaf_size=64).
    ksp_rtol, ksp_atol : float
        CG tolerances (relative to the preconditioned right-hand side, and absolute) of
        both Poisson solves. `ksp_atol` in units of the preconditioned residual.
    ksp_max_it : int
        Iteration limit of each solve; exceeding it raises :class:`DemagSolverError`.
    pc : "auto" | "hypre" | "gamg"
        Algebraic multigrid: hypre BoomerAMG ("auto" when PETSc has hypre), else GAMG.

    PETSc options with the prefixes ``demag_u1_`` / ``demag_u2_`` (e.g.
    ``-demag_u1_ksp_monitor``) reach the two solvers. ``timings`` holds the setup times
    and those of the last evaluation (s); ``iterations`` the CG iterations (u₁, u₂).
    """

    name = "demag"

    def __init__(self, method="auto", threshold=8000, hmatrix=None, ksp_rtol=1e-10,
                 ksp_atol=1e-50, ksp_max_it=1000, pc="auto"):
        super().__init__()
        if method not in ("auto", "dense", "hmatrix"):
            raise ValueError(f"Demag method must be 'auto', 'dense' or 'hmatrix', not {method!r}")
        if not (isinstance(threshold, (int, np.integer)) and threshold > 0):
            raise ValueError(f"Demag threshold must be a positive node count, got {threshold!r}")
        for key, value in (("ksp_rtol", ksp_rtol), ("ksp_atol", ksp_atol)):
            if not (isinstance(value, (int, float)) and 0 < value < 1):
                raise ValueError(f"Demag {key} must be in (0, 1), got {value!r}")
        if not (isinstance(ksp_max_it, (int, np.integer)) and ksp_max_it > 0):
            raise ValueError(f"Demag ksp_max_it must be a positive integer, got {ksp_max_it!r}")
        if pc not in ("auto", "hypre", "gamg"):
            raise ValueError(f"Demag pc must be 'auto', 'hypre' or 'gamg', not {pc!r}")
        if pc == "hypre" and not PETSc.Sys.hasExternalPackage("hypre"):
            raise ValueError("Demag pc='hypre': this PETSc has no hypre; use pc='gamg'")
        self.method, self.threshold = method, int(threshold)
        self.hmatrix_options = dict(hmatrix or {})
        self.ksp_rtol, self.ksp_atol, self.ksp_max_it = float(ksp_rtol), float(ksp_atol), int(ksp_max_it)
        self.pc = default_amg() if pc == "auto" else pc
        self.timings = {}
        self.iterations = (0, 0)
        self.evaluations = 0

    # -- setup ------------------------------------------------------------------------
    def setup(self, sim):
        super().setup(sim)
        comm = sim.comm
        fem = compat.dolfinx.fem
        t0 = _now(comm)
        S = self.S = compat.scalar_space(sim.mesh.mesh)
        self.u1 = fem.Function(S, name="u1_demag")
        self.u2 = fem.Function(S, name="u2_demag")
        self.u = fem.Function(S, name="u_demag")      # u₁ + u₂, A
        self.g = fem.Function(S, name="u2_boundary")  # Dirichlet data of u₂
        self.surface = surf = exterior_surface(S, comm)
        t1 = _now(comm)
        self.B = boundary_operator(surf.coords, surf.triangles, surf.solid_angles, comm,
                                   method=self.method, threshold=self.threshold,
                                   **self.hmatrix_options)
        t2 = _now(comm)
        self._boundary_maps(comm)

        u, v = ufl.TrialFunction(S), ufl.TestFunction(S)
        stiffness = fem.form(ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx)
        self.K = compat.assemble_matrix(stiffness)
        self.nullspace, self.n_bodies = _null_space(S, comm)
        self.K.setNullSpace(self.nullspace)
        local_bdofs = np.flatnonzero(surf.position >= 0).astype(np.int32)
        self._bc = fem.dirichletbc(self.g, local_bdofs)
        self.A = compat.assemble_matrix(stiffness, bcs=[self._bc])
        mt, w = ufl.TrialFunction(sim.V), ufl.TestFunction(sim.V)
        # b = D m: b_i = ∫ Ms m·∇φ_i dx (A·m² per unit m)
        self.D = compat.assemble_matrix(fem.form(sim.params.Ms * ufl.inner(mt, ufl.grad(v)) * ufl.dx))
        # g = G u: g_i = ∫ ∇u·ψ_i dx for the vector hat functions ψ_i (A·m² per unit u)
        self.G = compat.assemble_matrix(fem.form(ufl.inner(ufl.grad(u), w) * ufl.dx))
        ones = ufl.as_vector((1.0, 1.0, 1.0))
        lumped = compat.assemble_vector(fem.form(ufl.inner(ones, w) * ufl.dx))
        compat.ghost_update_forward(lumped)
        self.weight = lumped.duplicate()  # −1/∫φ_i dx (1/m³)
        self.weight.set(-1.0)
        self.weight.pointwiseDivide(self.weight, lumped)
        self.b1 = self.K.createVecLeft()
        self.b2 = self.K.createVecLeft()
        self.ksp1 = self._krylov(self.K, "demag_u1_")
        self.ksp2 = self._krylov(self.A, "demag_u2_")
        self._m_seen = None
        t3 = _now(comm)
        self.timings.update(surface=t1 - t0, boundary_matrix=t2 - t1, fem_and_amg=t3 - t2,
                            setup=t3 - t0)

    def _boundary_maps(self, comm):
        """Index arrays for gathering owned boundary values of u₁ into the full vector."""
        n_owned = self.S.dofmap.index_map.size_local
        pos = self.surface.position
        self._owned_b = np.flatnonzero(pos[:n_owned] >= 0)
        counts = np.array(comm.allgather(len(self._owned_b)), dtype=np.int64)
        self._counts = counts
        self._displs = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self._gather_order = np.concatenate(comm.allgather(pos[self._owned_b]))
        self._local_b = np.flatnonzero(pos >= 0)
        self._local_b_pos = pos[self._local_b]

    def _krylov(self, A, prefix):
        ksp = PETSc.KSP().create(self.sim.comm)
        ksp.setOptionsPrefix(prefix)
        ksp.setOperators(A)
        ksp.setType("cg")
        pc = ksp.getPC()
        if self.pc == "hypre":
            pc.setType("hypre")
            pc.setHYPREType("boomeramg")
        else:
            pc.setType("gamg")
        ksp.setTolerances(rtol=self.ksp_rtol, atol=self.ksp_atol, max_it=self.ksp_max_it)
        ksp.setInitialGuessNonzero(True)
        with_default_options(prefix, AMG_OPTIONS[self.pc], ksp.setFromOptions)
        ksp.setUp()  # the AMG hierarchy is built here, once
        return ksp

    def reassemble(self):
        """Rebuild the m → b matrix after Ms changed (collective)."""
        self._require_setup()
        self.D.zeroEntries()
        mt, v = ufl.TrialFunction(self.sim.V), ufl.TestFunction(self.S)
        form = compat.dolfinx.fem.form(self.sim.params.Ms * ufl.inner(mt, ufl.grad(v)) * ufl.dx)
        compat.dolfinx.fem.petsc.assemble_matrix(self.D, form)
        self.D.assemble()
        self._m_seen = None

    # -- evaluation -------------------------------------------------------------------
    def _solve(self, ksp, b, x, which):
        ksp.solve(b, x)
        reason = ksp.getConvergedReason()
        if reason < 0:
            raise DemagSolverError(
                f"demag {which} solve did not converge (PETSc reason {reason}, "
                f"{ksp.getIterationNumber()} iterations, residual {ksp.getResidualNorm():.3g}); "
                f"loosen ksp_rtol or raise ksp_max_it")
        return ksp.getIterationNumber()

    def potential(self):
        """Solve for u = u₁ + u₂ (A) at sim.m; skipped if m has not changed (collective)."""
        self._require_setup()
        m_arr = self.sim.m.x.array
        changed = self._m_seen is None or not np.array_equal(self._m_seen, m_arr)
        if not self.sim.comm.allreduce(changed, op=MPI.LOR):
            return self.u
        comm = self.sim.comm
        t0 = _now(comm)
        # u₁: ∫∇u₁·∇v = ∫ M·∇v, null space (constants per body) removed from b
        self.D.mult(compat.petsc_vector(self.sim.m), self.b1)
        self.nullspace.remove(self.b1)
        x1 = compat.petsc_vector(self.u1)
        it1 = self._solve(self.ksp1, self.b1, x1, "u1 (Neumann)")
        t1 = _now(comm)
        # boundary: u₂|Γ = B u₁|Γ on every rank
        local = np.ascontiguousarray(self.u1.x.array[self._owned_b])
        gathered = np.empty(self.surface.n_nodes)
        comm.Allgatherv(local, [gathered, self._counts, self._displs, MPI.DOUBLE])
        u1_b = np.empty_like(gathered)
        u1_b[self._gather_order] = gathered
        u2_b = self.B.matvec(u1_b)
        t2 = _now(comm)
        # u₂: Laplace with Dirichlet data; lifting b = −K g off Γ, b = g on Γ
        gvec = compat.petsc_vector(self.g)
        self.g.x.array[self._local_b] = u2_b[self._local_b_pos]
        self.K.mult(gvec, self.b2)
        self.b2.scale(-1.0)
        owned = self._owned_b
        self.b2.array[owned] = self.g.x.array[owned]
        x2 = compat.petsc_vector(self.u2)
        it2 = self._solve(self.ksp2, self.b2, x2, "u2 (Dirichlet)")
        uvec = compat.petsc_vector(self.u)
        uvec.waxpy(1.0, x1, x2)
        compat.ghost_update_forward(uvec)
        t3 = _now(comm)
        self._m_seen = m_arr.copy()
        self.iterations = (it1, it2)
        self.evaluations += 1
        self.timings.update(u1_solve=t1 - t0, boundary_matvec=t2 - t1, u2_solve=t3 - t2)
        return self.u

    def field(self):
        """H_d = −∇(u₁ + u₂) with the lumped mass, a P1 vector Function in A/m (collective)."""
        self._require_setup()
        t0 = _now(self.sim.comm)
        self.potential()
        h = compat.petsc_vector(self.H)
        self.G.mult(compat.petsc_vector(self.u), h)
        h.pointwiseMult(h, self.weight)
        compat.ghost_update_forward(h)
        self.timings["field"] = _now(self.sim.comm) - t0
        return self.H

    def energy(self):
        """E_d = (μ₀/2) ∫ Ms m·∇u dx in J, the same on every rank (collective)."""
        self._require_setup()
        self.potential()
        return 0.5 * MU0 * self.b1.dot(compat.petsc_vector(self.u))

    def __repr__(self):
        return (f"Demag(method={self.method!r}, threshold={self.threshold}, "
                f"ksp_rtol={self.ksp_rtol:g}, pc={self.pc!r})")


def _now(comm):
    """Wall time in s, synchronised over `comm` (timings then measure the slowest rank)."""
    comm.Barrier()
    return time.perf_counter()
