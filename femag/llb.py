"""The Landau–Lifshitz–Bloch (LLB) equation on the nodal P1 magnetisation.

m = M/Ms(0) is not of unit length. With γ in m/(A·s) and H in A/m (Garanin 1997;
Atxitia et al., PRB 81, 174401 (2010); Evans et al., PRB 85, 014433 (2012)):

    ∂m/∂t = −γ m × H + γ α∥ (m·H) m / m² − γ α⊥ m × (m × H) / m²,

α∥ = 2λT/(3Tc), α⊥ = λ(1 − T/(3Tc)) below Tc and α⊥ = α∥ above (λ = Material.llb_lambda,
:func:`femag.mean_field.llb_damping`). H is the sum of the simulation's term fields,
temperature-scaled as below, plus the longitudinal field (:class:`LongitudinalField`)

    H_long = (1/(2χ∥)) (1 − m²/m_e²) m                     T < Tc
    H_long = −(1/χ∥) (1 + ξ Tc m²/(T − Tc)) m               T ≥ Tc   (ξ = 3/5 classical)

with m_e(T), χ∥(T) from :mod:`femag.mean_field` (continuous through Tc).

Temperature dependence of the terms (docs/llb.md, section 10):

* Exchange: the LLB exchange field is 2A(T)/(μ0 Ms(0) m_e²) ∇²m and A(T) = A(0) m_e² in
  the mean field, so it is the T = 0 field: Exchange (and DMI) are used unchanged.
* Uniaxial anisotropy: the LLB field is −m⊥/χ⊥ = −(2K(T)/(μ0 Ms(0) m_e²)) m⊥ (m⊥ ⊥ u),
  computed as s·H_K − s·(2K0/(μ0 Ms(0))) m from the UniaxialAnisotropy field
  H_K = (2K0/(μ0 Ms(0)))(m·u)u, s = K(T)/(K0 m_e²) below Tc and 0 above. The second part
  is parallel to m (no torque) but keeps the anisotropy from stretching |m|.
* Zeeman and Demag act on M = Ms(0) m unchanged. Cubic anisotropy is not supported.

The energies in the table are the terms' with their T = 0 constants plus the
longitudinal free energy. One LLB material per simulation (regions may share it).
The temperature (:mod:`femag.temperature`) must be > 0 K; the T → 0 limit is LLG.

Equation interface (as :class:`femag.llg.LLG`): ``name``, ``load(t, y)``,
``rhs(t, y, ydot)``, ``after_step(y)`` (nothing: |m| is free), ``evaluations``,
``max_torque()``.
"""
from __future__ import annotations

import numpy as np
import ufl
from mpi4py import MPI

from . import compat, mean_field
from .anisotropy import CubicAnisotropy, UniaxialAnisotropy
from .llg import LLG, cross, nodal_average
from .material import MU0
from .term import Term


def llb_material(sim):
    """The simulation's LLB material; ValueError if regions have different ones."""
    materials = list({id(m): m for m in sim.materials.values()}.values())
    first = materials[0]
    keys = ("Ms", "A", "Ku", "Tc", "llb_lambda", "spin", "mu_atom", "anisotropy_model",
            "gamma")
    if any(getattr(m, k) != getattr(first, k) or m.equilibrium is not first.equilibrium
           for m in materials for k in keys):
        raise ValueError("the LLB equation supports one material per simulation (regions may "
                         "share it); the regions here have different LLB parameters")
    return first


def positive_temperature(T):
    """T (K) unchanged if every value is > 0, else a ValueError."""
    if np.any(np.asarray(T) <= 0):
        raise ValueError("the LLB equation needs T > 0 K (its T → 0 limit is the LLG "
                         "equation; use equation='llg' or a small T)")
    return T


def _mu0_mass(sim):
    """μ0 M_i = μ0 ∫ Ms(0) φ_i dx at the owned nodes (T·A·m² = J per A/m), numpy (n_owned,)."""
    weight = sim.field_weight.getArray(readonly=True).reshape(-1, 3)[: sim.n_owned, 0]
    return -1.0 / weight


class LongitudinalField(Term):
    """The LLB longitudinal field H_long = f(m², T) m (A/m) with its free energy (J)

        E = Σ_i μ0 M_i g(m_i²),   g(s) = −½ ∫ f ds  (zero at m² = m_e² below Tc),

    M_i = ∫ Ms(0) φ_i dx, so that H_long,i = −1/(μ0 M_i) ∂E/∂m_i exactly. f is linear in
    s = m² on each side of Tc: f = f0 + f1 s, evaluated from
    :func:`femag.mean_field.longitudinal_field`. LLB adds it automatically."""

    name = "longitudinal"

    def setup(self, sim):
        if sim.equation != "llb":
            raise ValueError("LongitudinalField belongs to equation='llb' simulations")
        super().setup(sim)
        self.material = llb_material(sim)
        self._mass = _mu0_mass(sim)

    def temperature(self):
        if self.sim.temperature is None:
            raise ValueError("the LLB equation needs a temperature: sim.temperature = 300.0 (K)")
        return positive_temperature(self.sim.temperature.at(self.sim.t))

    def coefficients(self, T):
        """(f0, f1) in A/m with f(s) = f0 + f1 s, for T in K (scalar or (n,) array)."""
        zero = np.zeros(np.shape(T))
        f0 = mean_field.longitudinal_field(zero, T, self.material)
        f1 = mean_field.longitudinal_field(zero + 1.0, T, self.material) - f0
        return f0, f1

    def nodal_field(self, m, T):
        """H_long (n, 3) in A/m for nodal m (n, 3) and T (K, scalar or (n,))."""
        f0, f1 = self.coefficients(T)
        s = np.einsum("ij,ij->i", m, m)
        return (f0 + f1 * s)[:, None] * m

    def field(self):
        self._require_setup()
        m = self.sim.nodal(self.sim.m)
        self.sim.nodal(self.H)[:] = self.nodal_field(m, self.temperature())
        compat.scatter_forward(self.H)
        return self.H

    def energy(self):
        self._require_setup()
        T = self.temperature()
        m = self.sim.nodal(self.sim.m)
        f0, f1 = self.coefficients(T)
        s = np.einsum("ij,ij->i", m, m)
        g = -0.5 * (f0 * s + 0.5 * f1 * s ** 2)
        below = np.asarray(T) < mean_field._Params(self.material).Tc
        if np.any(below):  # g(m_e²) = 0: the free energy of the equilibrium length
            me2 = np.asarray(mean_field.equilibrium_m(T, self.material)) ** 2
            g = g + np.where(below, 0.5 * (f0 * me2 + 0.5 * f1 * me2 ** 2), 0.0)
        local = float(np.sum(self._mass * g))
        return self.sim.comm.allreduce(local, op=MPI.SUM)


class LLB:
    """Right-hand side of the LLB equation for the integrators (``sim.run`` picks it when
    sim.equation == "llb"). Adds a :class:`LongitudinalField` to the simulation if absent.
    """

    name = "llb"

    def __init__(self, sim):
        if sim.equation != "llb":
            raise ValueError(f"LLB needs a simulation with equation='llb', got {sim.equation!r}")
        if sim.temperature is None:
            raise ValueError("the LLB equation needs a temperature: sim.temperature = 300.0 (K), "
                             "a callable of t or (x, t), or a TwoTemperatureModel")
        self.sim = sim
        self.material = llb_material(sim)
        for term in sim.terms:
            if isinstance(term, CubicAnisotropy):
                raise ValueError("CubicAnisotropy has no temperature dependence in the LLB "
                                 "equation yet; use UniaxialAnisotropy")
        self.gamma = nodal_average(sim, sim.params.gamma)[:, None]  # m/(A·s)
        self.longitudinal = next((t for t in sim.terms if isinstance(t, LongitudinalField)),
                                 None)
        if self.longitudinal is None:
            self.longitudinal = LongitudinalField()
            sim.add(self.longitudinal)
        # per anisotropy term: 2 ∫K0 φ_i / (μ0 ∫Ms φ_i) (A/m), the field of m ∥ u per unit m
        mass = _mu0_mass(sim)
        self._anisotropy = []
        for term in sim.terms:
            if isinstance(term, UniaxialAnisotropy):
                K = sim.params.Ku if term.Ku is None else float(term.Ku)
                kv = nodal_average(sim, K) * _node_volumes(sim)
                self._anisotropy.append((term, (2.0 * kv / mass)[:, None]))
        self._K0 = float(self.material.Ku)
        self._m_vec = compat.petsc_vector(sim.m)
        self.evaluations = 0
        self.last_torque = 0.0

    #: Copy y into sim.m (owned part, then ghosts), set sim.t = t (s), update the terms.
    load = LLG.load

    def anisotropy_scale(self, T):
        """s = K(T)/(K0 m_e(T)²) below Tc, 0 at and above Tc (dimensionless, like T)."""
        T = np.asarray(T, dtype=float)
        if self._K0 == 0.0:  # a term with its own Ku: scale like a material with K0 = 1
            mat = _WithKu(self.material)
        else:
            mat = self.material
        me = np.asarray(mean_field.equilibrium_m(T, mat))
        K = np.asarray(mean_field.anisotropy_constant(T, mat))
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(me > 0, K / (mat.Ku * np.where(me > 0, me, 1.0) ** 2), 0.0)
        return s

    def field(self, t):
        """(H (n_owned, 3) in A/m, T) at sim.m and time t (s): the LLB effective field."""
        sim = self.sim
        T = positive_temperature(sim.temperature.at(t))
        h = sim.nodal(sim.effective_field()).copy()
        if self._anisotropy:
            s = self.anisotropy_scale(T)
            s = s[:, None] if s.ndim else float(s)
            m = sim.nodal(sim.m)
            for term, c in self._anisotropy:
                hk = sim.nodal(term.H)  # evaluated by effective_field() above
                h += (s - 1.0) * hk - s * c * m
        return h, T

    def velocity(self, m, h, T):
        """∂m/∂t (n, 3) in 1/s for nodal m, H (A/m) and T (K)."""
        a_par, a_perp = mean_field.llb_damping(T, self.material)
        a_par = np.reshape(a_par, (-1, 1)) if np.ndim(a_par) else a_par
        a_perp = np.reshape(a_perp, (-1, 1)) if np.ndim(a_perp) else a_perp
        # m = 0 exactly (a paramagnet that has fully decayed): the m/m² terms vanish there
        m_sq = np.maximum(np.einsum("ij,ij->i", m, m), 1e-300)[:, None]
        mxh = cross(m, h)
        if len(m):
            self.last_torque = float(np.sqrt(np.max(np.einsum("ij,ij->i", mxh, mxh))))
        mdoth = np.einsum("ij,ij->i", m, h)[:, None]
        return self.gamma * (-mxh + (a_par * mdoth) * m / m_sq - (a_perp / m_sq) * cross(m, mxh))

    def rhs(self, t, y, ydot):
        """ydot = ∂m/∂t at (t, y) (collective)."""
        self.load(t, y)
        h, T = self.field(t)
        m = self.sim.nodal(self.sim.m)
        ydot.getArray().reshape(-1, 3)[:] = self.velocity(m, h, T)
        self.evaluations += 1

    def after_step(self, y):
        """Nothing to project: |m| is a dynamical variable in LLB."""

    def max_torque(self):
        """max |m × H| (A/m) over all ranks at the last RHS evaluation (collective)."""
        return self.sim.comm.allreduce(self.last_torque, op=MPI.MAX)


class _WithKu:
    """A material seen with Ku = 1 J/m³ (for the anisotropy scale of a term's own Ku)."""

    def __init__(self, material):
        self._m = material

    def __getattr__(self, name):
        return 1.0 if name == "Ku" else getattr(self._m, name)


def _node_volumes(sim):
    """∫ φ_i dx (m³) of the owned P1 nodes, numpy (n_owned,)."""
    v = ufl.TestFunction(sim.V)
    vec = compat.assemble_vector(compat.dolfinx.fem.form(
        ufl.inner(ufl.as_vector((1.0, 1.0, 1.0)), v) * ufl.dx))
    return vec.getArray(readonly=True).reshape(-1, 3)[: sim.n_owned, 0].copy()


__all__ = ["LLB", "LongitudinalField", "llb_material", "positive_temperature"]
