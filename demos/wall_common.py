"""Shared pieces of the curved-geometry wall demos: permalloy and a relaxation helper."""
from __future__ import annotations

import femag

#: Permalloy (Ms in A/m, A in J/m), no crystal anisotropy.
PERMALLOY = femag.Material(Ms=8.6e5, A=1.3e-11, alpha=0.5)


def relaxed(mesh, m0, tol=20.0, material=PERMALLOY, max_iterations=10000):
    """A Simulation with exchange + demag relaxed from m0 (sim.minimize to `tol` A/m)."""
    sim = femag.Simulation(mesh, material)
    sim.add(femag.Exchange(), femag.Demag())
    sim.m = m0
    sim.minimize(tol=tol, max_iterations=max_iterations)
    return sim
