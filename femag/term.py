"""The energy-term interface shared by every physics term.

A term is an energy functional E[m] (J). Its effective field is the functional
derivative with the lumped (nodal) mass, the pattern of FinMag and magpar:

    H_i = −1/(μ0 M_i) ∂E/∂m_i,   M_i = ∫ Ms φ_i dx,

for each P1 node i and component, in A/m. Terms whose density is quadratic in m
(exchange, uniaxial anisotropy, DMI) assemble the Hessian K = ∂²E/∂m² once and get
∂E/∂m = K m by one sparse product; other terms assemble ∂E/∂m each time.

A term is bound to one simulation by ``sim.add(term)``; afterwards ``term.energy()``
(J) and ``term.field()`` (a DOLFINx Function in A/m) evaluate it at ``sim.m``.
"""
from __future__ import annotations

import ufl
from mpi4py import MPI

from . import compat
from .material import MU0


class Term:
    """Base class: a named energy term bound to a simulation by :meth:`setup`."""

    #: Name used in tables (E_<name> [J]) and ParaView (H_<name>).
    name = "term"

    def __init__(self):
        self.sim = None
        self.H = None

    # -- composition: Exchange() + Demag() + Zeeman(...) ----------------------------
    def __add__(self, other):
        return TermSum([self]) + other

    def __radd__(self, other):
        if other == 0:  # sum([...]) starts from 0
            return TermSum([self])
        return NotImplemented

    def setup(self, sim):
        """Bind to `sim` (collective). Subclasses build their forms here."""
        if self.sim is not None and self.sim is not sim:
            raise ValueError(f"{type(self).__name__} is already part of another simulation; "
                             f"create a new one")
        self.sim = sim
        self.H = compat.dolfinx.fem.Function(sim.V, name=f"H_{self.name}")

    def _require_setup(self):
        if self.sim is None:
            raise RuntimeError(f"{type(self).__name__} is not part of a simulation: sim.add(term) first")

    def field(self):
        """Effective field at sim.m as a P1 vector Function, in A/m (collective)."""
        raise NotImplementedError

    def energy(self):
        """Energy at sim.m in J, the same on every rank (collective)."""
        raise NotImplementedError

    def update(self, t):
        """Hook called when simulated time or temperature changes (t in s)."""

    def __repr__(self):
        return f"{type(self).__name__}()"


class TermSum(list):
    """A readable sum of terms: ``Exchange() + Demag() + Zeeman(H=(1e4, 0, 0))``."""

    def __add__(self, other):
        if isinstance(other, Term):
            return TermSum(list(self) + [other])
        if isinstance(other, TermSum):
            return TermSum(list(self) + list(other))
        return NotImplemented


class EnergyTerm(Term):
    """A term given by a UFL energy density w(m) (J/m³), E = ∫ w dx.

    Subclasses implement :meth:`density`; set ``quadratic = True`` when w is a
    quadratic form in m plus a constant, so that its Hessian is assembled once.
    """

    quadratic = False

    def density(self, m, params):
        """UFL energy density in J/m³ for the magnetisation m (dimensionless P1 vector)."""
        raise NotImplementedError

    def setup(self, sim):
        super().setup(sim)
        m = sim.m
        v = ufl.TestFunction(sim.V)
        energy = self.density(m, sim.params) * ufl.dx
        self._energy_form = compat.dolfinx.fem.form(energy)
        gradient = ufl.derivative(energy, m, v)
        self._gradient_vec = None
        self._hessian = None
        if self.quadratic:
            du = ufl.TrialFunction(sim.V)
            self._hessian_form = compat.dolfinx.fem.form(ufl.derivative(gradient, m, du))
            self._hessian = compat.assemble_matrix(self._hessian_form)
            self._gradient_vec = self._hessian.createVecLeft()
        else:
            self._gradient_form = compat.dolfinx.fem.form(gradient)

    def reassemble(self):
        """Rebuild the Hessian after a parameter changed (e.g. A(T) in LLB)."""
        if self.quadratic:
            self._hessian.zeroEntries()
            compat.dolfinx.fem.petsc.assemble_matrix(self._hessian, self._hessian_form)
            self._hessian.assemble()

    def gradient(self):
        """∂E/∂m_i (J per unit m) as a PETSc Vec with owned entries (collective)."""
        m_vec = compat.petsc_vector(self.sim.m)
        if self.quadratic:
            self._hessian.mult(m_vec, self._gradient_vec)
            return self._gradient_vec
        if self._gradient_vec is None:
            self._gradient_vec = compat.dolfinx.fem.petsc.create_vector(self._gradient_form)
        with self._gradient_vec.localForm() as local:
            local.set(0.0)
        compat.dolfinx.fem.petsc.assemble_vector(self._gradient_vec, self._gradient_form)
        compat.ghost_update_add(self._gradient_vec)
        return self._gradient_vec

    def field(self):
        self._require_setup()
        h_vec = compat.petsc_vector(self.H)
        h_vec.pointwiseMult(self.gradient(), self.sim.field_weight)
        compat.ghost_update_forward(h_vec)
        return self.H

    def energy(self):
        self._require_setup()
        local = compat.dolfinx.fem.assemble_scalar(self._energy_form)
        return self.sim.comm.allreduce(local, op=MPI.SUM)


def lumped_field_weight(sim):
    """PETSc Vec of −1/(μ0 ∫ Ms φ_i dx) per P1 dof (m³ → 1/(T·A·m²)·...), so H = w ∘ ∂E/∂m."""
    v = ufl.TestFunction(sim.V)
    ones = ufl.as_vector((1.0, 1.0, 1.0))
    lumped = compat.assemble_vector(compat.dolfinx.fem.form(sim.params.Ms * ufl.inner(ones, v) * ufl.dx))
    compat.ghost_update_forward(lumped)
    weight = lumped.duplicate()
    weight.set(-1.0 / MU0)
    weight.pointwiseDivide(weight, lumped)
    compat.ghost_update_forward(weight)
    return weight


__all__ = ["Term", "TermSum", "EnergyTerm", "MU0", "lumped_field_weight"]
