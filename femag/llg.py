"""The Landau–Lifshitz–Gilbert equation on the nodal P1 magnetisation.

Gilbert form, with optional spin-transfer torques T (1/s, tangent to m, see :mod:`femag.stt`):

    ∂m/∂t = −γ m × H_eff + α m × ∂m/∂t + T,

solved for ∂m/∂t (explicit Landau–Lifshitz form): with R = −γ m × H_eff + T,

    ∂m/∂t = (R + α m × R) / (1 + α²)
          = −γ/(1+α²) [m × H + α m × (m × H)]   (no T),

H_eff in A/m, γ in m/(A·s) (2.211e5 by default), α dimensionless. H_eff is the lumped-mass
field of every term (:meth:`femag.Simulation.effective_field`), so the discrete energy
E(m) satisfies dE/dt = −Σ_i μ0 M_i γ_i α_i/(1+α_i²) |m_i × H_i|² ≤ 0 exactly (M_i = ∫ Ms φ_i):
damping never raises the energy and α = 0 conserves it up to the integrator's error.

α and γ are DG0 material parameters; each node uses their lumped-mass average
a_i = ∫ a φ_i dx / ∫ φ_i dx (computed once).

Equation interface (shared with :mod:`femag.llb`, used by :mod:`femag.integrators`):
``name``, ``rhs(t, y, ydot)`` (PETSc Vecs laid out like ``compat.petsc_vector(sim.m)``),
``after_step(y)`` (here: renormalise every node), ``evaluations`` (RHS count).
"""
from __future__ import annotations

import numpy as np
import ufl
from mpi4py import MPI

from . import compat


def cross(a, b):
    """Row-wise a × b for (n, 3) arrays (faster than np.cross for small rows)."""
    out = np.empty_like(a)
    out[:, 0] = a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]
    out[:, 1] = a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]
    out[:, 2] = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    return out


def nodal_average(sim, coefficient):
    """Lumped-mass average ∫ c φ_i dx / ∫ φ_i dx of a scalar (e.g. DG0) coefficient at the
    owned P1 nodes, numpy (n_owned,), in the coefficient's units (collective)."""
    v = ufl.TestFunction(sim.V)
    ones = ufl.as_vector((1.0, 1.0, 1.0))
    weighted = compat.assemble_vector(compat.dolfinx.fem.form(coefficient * ufl.inner(ones, v) * ufl.dx))
    volume = compat.assemble_vector(compat.dolfinx.fem.form(ufl.inner(ones, v) * ufl.dx))
    n = sim.n_owned
    return (weighted.getArray(readonly=True).reshape(-1, 3)[:n, 0]
            / volume.getArray(readonly=True).reshape(-1, 3)[:n, 0]).copy()


def _scalar(name, value, low=0.0):
    value = float(value)
    if not np.isfinite(value) or value < low:
        raise ValueError(f"{name} must be a finite number ≥ {low}, got {value!r}")
    return value


class LLG:
    """Right-hand side of the LLG equation for PETSc time steppers.

    Parameters
    ----------
    sim : femag.Simulation
    torques : sequence, optional
        Spin-transfer torques (:class:`femag.stt.ZhangLi`, :class:`femag.stt.Slonczewski`).
    alpha : float, optional
        Damping replacing the material's everywhere (e.g. α = 1 to relax).
    precession : bool
        False drops the precession term (pure damping, for relaxation only).
    """

    name = "llg"

    def __init__(self, sim, torques=(), alpha=None, precession=True):
        if sim.equation != "llg":
            raise ValueError(f"LLG needs a simulation with equation='llg', got {sim.equation!r}")
        self.sim = sim
        self.gamma = nodal_average(sim, sim.params.gamma)[:, None]  # m/(A·s)
        if alpha is None:
            self.alpha = nodal_average(sim, sim.params.alpha)[:, None]
        else:
            self.alpha = np.full((sim.n_owned, 1), _scalar("alpha", alpha))
        self.precession = bool(precession)
        if not self.precession and not np.all(self.alpha > 0):
            raise ValueError("precession=False needs α > 0 everywhere (pure damping)")
        self.torques = list(torques)
        for torque in self.torques:
            torque.setup(sim)
        self._m_vec = compat.petsc_vector(sim.m)
        self.evaluations = 0
        self.last_torque = 0.0  # max_i |m_i × H_i| (A/m) on this rank at the last RHS

    # -- shared pieces -------------------------------------------------------------
    def load(self, t, y):
        """Copy y into sim.m (owned part, then ghosts) and bring every term to time t (s)."""
        y.copy(self._m_vec)
        compat.ghost_update_forward(self._m_vec)
        self.sim.t = t
        for term in self.sim.terms:
            term.update(t)

    def spin_torque(self, m, t):
        """Σ of the spin-transfer torques T(m, t) (n_owned, 3) in 1/s, or None."""
        if not self.torques:
            return None
        total = np.zeros_like(m)
        for torque in self.torques:
            total += torque.torque(m, t, self.gamma)
        return total

    def velocity(self, m, h, t):
        """∂m/∂t (n, 3) in 1/s for nodal m and H (A/m) at time t (s)."""
        mxh = cross(m, h)
        if len(m):
            self.last_torque = float(np.sqrt(np.max(np.einsum("ij,ij->i", mxh, mxh))))
        r = -self.gamma * mxh
        extra = self.spin_torque(m, t)
        if extra is not None:
            r += extra - np.einsum("ij,ij->i", extra, m)[:, None] * m  # keep T tangent
        if not self.precession:  # damping only: −γα/(1+α²) m × (m × H) (+ torques)
            return (self.alpha * cross(m, r)) / (1.0 + self.alpha ** 2)
        return (r + self.alpha * cross(m, r)) / (1.0 + self.alpha ** 2)

    # -- the equation interface ------------------------------------------------------
    def rhs(self, t, y, ydot):
        """ydot = ∂m/∂t at (t, y) (collective: evaluates every term's field)."""
        self.load(t, y)
        h = self.sim.nodal(self.sim.effective_field())
        m = self.sim.nodal(self.sim.m)
        out = ydot.getArray().reshape(-1, 3)
        out[:] = self.velocity(m, h, t)
        self.evaluations += 1

    def after_step(self, y):
        """Renormalise every node of y to |m| = 1 (the LLG norm constraint)."""
        arr = y.getArray().reshape(-1, 3)
        arr /= np.linalg.norm(arr, axis=1)[:, None]

    def max_torque(self):
        """max |m × H| (A/m) over all ranks at the last RHS evaluation (collective)."""
        return self.sim.comm.allreduce(self.last_torque, op=MPI.MAX)


__all__ = ["LLG", "cross", "nodal_average"]
