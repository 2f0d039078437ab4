"""Exchange: w = A |∇m|² (J/m³), A in J/m.

Effective field H = (2/(μ0 Ms)) ∇·(A ∇m) in A/m, here in the weak (lumped-mass) form,
whose natural boundary condition is ∂m/∂n = 0 on the magnet's surface. Where regions
of different A meet, the weak form couples them with the harmonic continuity of A∂m/∂n.
"""
from __future__ import annotations

import ufl

from .term import EnergyTerm


class Exchange(EnergyTerm):
    """Heisenberg exchange in the continuum limit.

    Parameters
    ----------
    A : float, optional
        Exchange stiffness in J/m; default: each region's ``Material.A``.
    """

    name = "exchange"
    quadratic = True

    def __init__(self, A=None):
        super().__init__()
        if A is not None and not (A >= 0):
            raise ValueError(f"Exchange A must be ≥ 0 J/m, got {A!r}")
        self.A = A

    def density(self, m, params):
        A = params.A if self.A is None else self.A
        return A * ufl.inner(ufl.grad(m), ufl.grad(m))

    def __repr__(self):
        return f"Exchange(A={self.A!r})"
