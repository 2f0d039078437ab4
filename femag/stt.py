"""Spin-transfer torques for the LLG equation, as torques T (1/s) in its Gilbert form

    ∂m/∂t = −γ m × H_eff + α m × ∂m/∂t + T        (see :mod:`femag.llg`).

Pass them to a run: ``sim.run(t_end, torques=[ZhangLi(J=(1e12, 0, 0), P=0.5, beta=0.04)])``.

Zhang–Li (current in the plane of the magnet; Zhang & Li, PRL 93, 127204 (2004);
Thiaville et al., EPL 69, 990 (2005)):

    T = −(u·∇)m + β m × (u·∇)m,    u = −(g μB P / (2 |e| Ms)) J   (m/s),

J the (conventional) current density in A/m², P the spin polarisation, β the
non-adiabatic parameter, g = 2. Sign convention: u points along the electron flow, i.e.
against J for P > 0; a domain wall moves along u (with velocity u exactly when β = α,
and (1 + αβ)/(1 + α²) u for a wall free to precess).

Slonczewski (current perpendicular to a free layer of thickness d, fixed polariser p;
Slonczewski, JMMM 159, L1 (1996); the form used by mumax3):

    T = γ β_J [ε m × (p × m) − ε' m × p],   β_J = ħ J / (μ0 |e| Ms d)   (A/m),
    ε = P Λ² / ((Λ² + 1) + (Λ² − 1) m·p),

J in A/m², d in m, ε' the field-like efficiency. Sign convention: J > 0 means electrons
flow from the polariser into the free layer (conventional current from the free layer
to the polariser); then the torque turns m towards p. J < 0 turns m away from p.
"""
from __future__ import annotations

import numpy as np
import ufl

from . import compat
from .llg import cross, nodal_average
from .material import MU0

#: Bohr magneton (J/T), elementary charge (C), reduced Planck constant (J·s) — CODATA 2018.
MU_B = 9.2740100783e-24
E_CHARGE = 1.602176634e-19
HBAR = 1.054571817e-34


def _vector(name, value):
    v = np.asarray(value, dtype=float)
    if v.shape != (3,) or not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be a finite 3-vector, got {value!r}")
    return v


def _time_factor(time_function, t):
    if time_function is None:
        return 1.0
    f = float(time_function(t))
    if not np.isfinite(f):
        raise ValueError(f"time_function({t}) must return a finite number")
    return f


class ZhangLi:
    """Zhang–Li torque of an in-plane current.

    Parameters
    ----------
    J : 3-vector
        Current density in A/m² (conventional current), uniform.
    P : float
        Spin polarisation (0..1).
    beta : float
        Non-adiabatic parameter β (dimensionless).
    time_function : callable, optional
        f(t) (t in s) multiplying J.
    g : float
        Landé factor (2).
    """

    name = "zhang_li"

    def __init__(self, J, P=0.5, beta=0.0, time_function=None, g=2.0):
        self.J = _vector("ZhangLi J (A/m²)", J)
        if not 0.0 <= P <= 1.0:
            raise ValueError(f"ZhangLi P must be in [0, 1], got {P!r}")
        if not np.isfinite(beta):
            raise ValueError(f"ZhangLi beta must be finite, got {beta!r}")
        if time_function is not None and not callable(time_function):
            raise ValueError("ZhangLi time_function must be a callable of t (s)")
        self.P, self.beta, self.g, self.time_function = float(P), float(beta), float(g), time_function
        self.sim = None

    def u(self, Ms):
        """Spin-drift velocity u (m/s) for Ms in A/m: −g μB P J / (2 |e| Ms)."""
        return -self.g * MU_B * self.P * self.J / (2 * E_CHARGE * Ms)

    def setup(self, sim):
        if self.sim is sim:
            return
        self.sim = sim
        du, v = ufl.TrialFunction(sim.V), ufl.TestFunction(sim.V)
        J = ufl.as_vector(tuple(float(c) for c in self.J))
        # G m = ∫ ((J·∇) m)·φ_i dx; divided by ∫ φ_i dx it is the nodal (J·∇)m (lumped L2)
        self._G = compat.assemble_matrix(compat.dolfinx.fem.form(ufl.inner(ufl.dot(ufl.grad(du), J), v) * ufl.dx))
        ones = ufl.as_vector((1.0, 1.0, 1.0))
        volume = compat.assemble_vector(compat.dolfinx.fem.form(ufl.inner(ones, v) * ufl.dx))
        n = sim.n_owned
        self._volume = volume.getArray(readonly=True).reshape(-1, 3)[:n].copy()
        Ms = nodal_average(sim, sim.params.Ms)[:, None]
        # (u·∇)m = −g μB P/(2|e| Ms) (J·∇)m
        self._factor = -self.g * MU_B * self.P / (2 * E_CHARGE * Ms)
        self._out = self._G.createVecLeft()

    def torque(self, m, t, gamma):
        """T (n_owned, 3) in 1/s at sim.m (m its owned nodal values) and time t (s)."""
        self._G.mult(compat.petsc_vector(self.sim.m), self._out)
        grad = self._out.getArray(readonly=True).reshape(-1, 3) / self._volume
        u_grad = (self._factor * _time_factor(self.time_function, t)) * grad
        return -u_grad + self.beta * cross(m, u_grad)

    def __repr__(self):
        return f"ZhangLi(J={tuple(self.J)}, P={self.P}, beta={self.beta})"


class Slonczewski:
    """Slonczewski torque of a current through a free layer with a fixed polariser.

    Parameters
    ----------
    J : float
        Current density in A/m² (> 0: electrons flow from the polariser into the layer).
    p : 3-vector
        Polariser magnetisation direction (normalised here).
    thickness : float
        Free-layer thickness d in m.
    P : float
        Spin polarisation (0..1).
    Lambda : float
        Slonczewski asymmetry parameter Λ ≥ 1 (1: symmetric, ε = P/2).
    epsilon_prime : float
        Field-like efficiency ε'.
    time_function : callable, optional
        f(t) (t in s) multiplying J.
    """

    name = "slonczewski"

    def __init__(self, J, p, thickness, P=0.4, Lambda=1.0, epsilon_prime=0.0, time_function=None):
        self.J = float(J)
        if not np.isfinite(self.J):
            raise ValueError(f"Slonczewski J must be finite (A/m²), got {J!r}")
        p = _vector("Slonczewski p", p)
        if np.linalg.norm(p) == 0:
            raise ValueError("Slonczewski polariser p must be non-zero")
        self.p = p / np.linalg.norm(p)
        if not thickness > 0:
            raise ValueError(f"Slonczewski thickness must be > 0 m, got {thickness!r}")
        if thickness > 1e-6:
            raise ValueError(f"Slonczewski thickness = {thickness!r} m is implausibly large "
                             f"(metres expected, e.g. 3e-9)")
        if not 0.0 <= P <= 1.0:
            raise ValueError(f"Slonczewski P must be in [0, 1], got {P!r}")
        if not Lambda >= 1.0:
            raise ValueError(f"Slonczewski Lambda must be ≥ 1, got {Lambda!r}")
        if time_function is not None and not callable(time_function):
            raise ValueError("Slonczewski time_function must be a callable of t (s)")
        self.thickness, self.P, self.Lambda = float(thickness), float(P), float(Lambda)
        self.epsilon_prime, self.time_function = float(epsilon_prime), time_function
        self.sim = None

    def setup(self, sim):
        if self.sim is sim:
            return
        self.sim = sim
        Ms = nodal_average(sim, sim.params.Ms)[:, None]
        self._beta = HBAR * self.J / (MU0 * E_CHARGE * Ms * self.thickness)  # A/m

    def torque(self, m, t, gamma):
        """T (n_owned, 3) in 1/s for nodal m, time t (s) and nodal γ (m/(A·s))."""
        lam2 = self.Lambda ** 2
        mp = m @ self.p
        eps = (self.P * lam2 / ((lam2 + 1) + (lam2 - 1) * mp))[:, None]
        b = gamma * self._beta * _time_factor(self.time_function, t)
        p = np.broadcast_to(self.p, m.shape)
        towards_p = p - mp[:, None] * m  # m × (p × m)
        return b * (eps * towards_p - self.epsilon_prime * cross(m, p))

    def __repr__(self):
        return f"Slonczewski(J={self.J}, p={tuple(self.p)}, thickness={self.thickness}, P={self.P})"


__all__ = ["ZhangLi", "Slonczewski", "MU_B", "E_CHARGE", "HBAR"]
