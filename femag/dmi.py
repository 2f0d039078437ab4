"""Dzyaloshinskii–Moriya interaction (D in J/m², energy densities in J/m³).

Interfacial (Cnv, thin film on a heavy-metal layer below, normal z; mumax3's Dind):
    w = D (m_z ∇·m − (m·∇) m_z)
Bulk (T, B20 helimagnets; mumax3's Dbulk):
    w = D m·(∇×m)

Sign conventions, checked by the tests: the cycloid m = (sin kx, 0, cos kx) has the
interfacial density w = D (m_z ∂x m_x − m_x ∂x m_z) = D k, so D > 0 favours k < 0;
the helix m = (0, cos kx, sin kx) has the bulk density w = −D k, favoured for D k > 0.

Boundary conditions: femag never imposes them; the energy functional ∫ (A|∇m|² + w) dx
is differentiated as it stands, so the weak form carries the natural conditions
    2A ∂m/∂n = D (n × ẑ) × m    (interfacial)     2A ∂m/∂n = D n × m   (bulk)
at free surfaces (Rohart & Thiaville 2013), which tilt m at the edges — as in mumax3.
"""
from __future__ import annotations

import ufl

from .term import EnergyTerm


def _curl(m):
    return ufl.as_vector((m[2].dx(1) - m[1].dx(2), m[0].dx(2) - m[2].dx(0), m[1].dx(0) - m[0].dx(1)))


class InterfacialDMI(EnergyTerm):
    """Interfacial DMI, w = D (m_z ∇·m − (m·∇) m_z); D in J/m² (default ``Material.D_int``)."""

    name = "dmi_interfacial"
    quadratic = True

    def __init__(self, D=None):
        super().__init__()
        self.D = D

    def density(self, m, params):
        D = params.D_int if self.D is None else self.D
        return D * (m[2] * ufl.div(m) - ufl.dot(m, ufl.grad(m[2])))

    def __repr__(self):
        return f"InterfacialDMI(D={self.D!r})"


class BulkDMI(EnergyTerm):
    """Bulk DMI, w = D m·(∇×m); D in J/m² (default ``Material.D_bulk``)."""

    name = "dmi_bulk"
    quadratic = True

    def __init__(self, D=None):
        super().__init__()
        self.D = D

    def density(self, m, params):
        D = params.D_bulk if self.D is None else self.D
        return D * ufl.dot(m, _curl(m))

    def __repr__(self):
        return f"BulkDMI(D={self.D!r})"
