"""Magnetocrystalline anisotropy (energy densities in J/m³, constants in J/m³).

Uniaxial: w = Ku (1 − (m·u)²)  (OOMMF's K1 sin²θ: zero along an easy axis, Ku > 0).
Cubic:    w = Kc1 (m1² m2² + m2² m3² + m3² m1²), m_i = m·c_i in the crystal axes c_i
          (Kc1 > 0: easy <100>; Kc1 < 0: easy <111>).
Fields: H = −1/(μ0 Ms) ∂w/∂m, e.g. uniaxial H = (2 Ku/(μ0 Ms)) (m·u) u in A/m.
"""
from __future__ import annotations

import numpy as np
import ufl

from .term import EnergyTerm


def _axis(value, name):
    if value is None:
        return None
    v = np.asarray(value, dtype=float).reshape(3)
    n = np.linalg.norm(v)
    if not np.all(np.isfinite(v)) or n == 0:
        raise ValueError(f"{name} must be a finite non-zero 3-vector, got {value!r}")
    return ufl.as_vector(tuple(v / n))


class UniaxialAnisotropy(EnergyTerm):
    """Uniaxial anisotropy w = Ku (1 − (m·u)²).

    Parameters
    ----------
    Ku : float, optional
        J/m³; default: each region's ``Material.Ku``.
    axis : 3-vector, optional
        Easy axis u; default: each region's ``Material.axis``.
    """

    name = "anisotropy"
    quadratic = True

    def __init__(self, Ku=None, axis=None):
        super().__init__()
        self.Ku = Ku
        self._axis_value = axis
        self.axis = _axis(axis, "UniaxialAnisotropy axis")

    def density(self, m, params):
        K = params.Ku if self.Ku is None else self.Ku
        u = params.axis if self.axis is None else self.axis
        return K * (1.0 - ufl.dot(m, u) ** 2)

    def __repr__(self):
        return f"UniaxialAnisotropy(Ku={self.Ku!r}, axis={self._axis_value!r})"


class CubicAnisotropy(EnergyTerm):
    """Cubic anisotropy w = Kc1 (m1² m2² + m2² m3² + m3² m1²).

    Parameters
    ----------
    Kc1 : float, optional
        J/m³; default: each region's ``Material.Kc1``.
    axes : pair of 3-vectors, optional
        Crystal axes c1, c2 (c3 = c1 × c2); default: ``Material.axes``.
    """

    name = "cubic_anisotropy"

    def __init__(self, Kc1=None, axes=None):
        super().__init__()
        self.Kc1 = Kc1
        self._axes_value = axes
        if axes is None:
            self.axes = None
        else:
            c1 = np.asarray(axes[0], float) / np.linalg.norm(axes[0])
            c2 = np.asarray(axes[1], float)
            c2 = c2 - np.dot(c2, c1) * c1
            if np.linalg.norm(c2) < 1e-9:
                raise ValueError("CubicAnisotropy axes must not be parallel")
            c2 /= np.linalg.norm(c2)
            self.axes = tuple(ufl.as_vector(tuple(c)) for c in (c1, c2, np.cross(c1, c2)))

    def density(self, m, params):
        K = params.Kc1 if self.Kc1 is None else self.Kc1
        c1, c2, c3 = (params.axis1, params.axis2, params.axis3) if self.axes is None else self.axes
        a, b, c = ufl.dot(m, c1) ** 2, ufl.dot(m, c2) ** 2, ufl.dot(m, c3) ** 2
        return K * (a * b + b * c + c * a)

    def __repr__(self):
        return f"CubicAnisotropy(Kc1={self.Kc1!r}, axes={self._axes_value!r})"
