"""Energy minimisation: the 1D Bloch wall, rank-count independence, loud failure.

Bar 120 × 3 × 3 nm along x, easy axis x, exchange + uniaxial anisotropy only (no demag),
A = 1.3e-11 J/m, Ku = 5e5 J/m³: Δ = sqrt(A/K) = 5.10 nm, wall width πΔ = 16.0 nm,
σ = 4 sqrt(A K) = 1.02e-2 J/m². With w = K(1 − (m·u)²) the uniform state costs nothing,
so σ = E_total / (cross-section area).
"""
import math

import numpy as np
import pytest
from mpi4py import MPI

import femag

A, KU, MS = 1.3e-11, 5e5, 8.6e5
LX, LY = 120e-9, 3e-9
DELTA = math.sqrt(A / KU)


def wall_sim(comm, h=1.0e-9):
    mesh = femag.geometries.box(LX, LY, LY, h=h, comm=comm)
    sim = femag.Simulation(mesh, femag.Material(Ms=MS, A=A, Ku=KU, axis=(1, 0, 0)))
    sim.add(femag.Exchange(), femag.UniaxialAnisotropy())
    # start from a too-narrow Bloch-like wall (rotation through y), centred at x = 0
    sim.m = lambda x: np.array([-np.tanh(x[0] / 2e-9), 1 / np.cosh(x[0] / 2e-9), 0 * x[0]])
    return sim


def fit_tanh_width(sim):
    """Δ from a least-squares fit of m_x = −tanh((x − x0)/Δ) along the bar's axis (m)."""
    from scipy.optimize import curve_fit
    x = np.linspace(-LX / 2 + 5e-9, LX / 2 - 5e-9, 241)
    mx = sim.probe(np.column_stack([x, 0 * x, 0 * x]), "m")[:, 0]
    (x0, delta), _ = curve_fit(lambda x, x0, d: -np.tanh((x - x0) / d), x, mx, p0=(0.0, 3e-9))
    return x0, abs(delta)


@pytest.fixture(scope="module")
def relaxed(comm):
    sim = wall_sim(comm)
    result = sim.minimize(tol=1.0)
    return sim, result


def test_bloch_wall_energy_and_width(relaxed):
    sim, result = relaxed
    assert result.torque < 1.0
    sigma = sim.energy() / (LY * LY)
    assert sigma == pytest.approx(4 * math.sqrt(A * KU), rel=0.02)
    x0, delta = fit_tanh_width(sim)
    assert abs(x0) < 2e-9  # the wall may creep along its zero mode
    assert math.pi * delta == pytest.approx(math.pi * DELTA, rel=0.03)
    # exchange and anisotropy share the wall energy equally (virial theorem of the 1D wall)
    e = sim.energies()
    assert e["exchange"] == pytest.approx(e["anisotropy"], rel=0.03)


def test_same_energy_on_one_and_all_ranks(relaxed):
    """Minimise the same problem on COMM_SELF (each rank alone) and on COMM_WORLD."""
    sim_world, _ = relaxed
    sim_self = wall_sim(MPI.COMM_SELF)
    sim_self.minimize(tol=1.0)
    e_world, e_self = sim_world.energies(), sim_self.energies()
    for name in ("exchange", "anisotropy", "total"):
        assert e_world[name] == pytest.approx(e_self[name], rel=1e-8)
    e_world = MPI.COMM_WORLD.allgather(e_world["total"])
    assert max(e_world) == min(e_world)  # every rank reports the same number


def test_minimize_fails_loudly(comm):
    sim = wall_sim(comm, h=1.5e-9)
    with pytest.raises(femag.MinimizationError, match="did not converge"):
        sim.minimize(tol=1e-6, max_iterations=5)


def test_minimize_rejects_bad_tolerance(comm):
    sim = wall_sim(comm, h=1.5e-9)
    with pytest.raises(ValueError, match="tol"):
        sim.minimize(tol=0)


def test_exchange_preconditioner_makes_the_iterations_mesh_independent(comm):
    """Steepest descent along H⊥ needs steps below μ0 Ms h²/(2A) on the smallest element,
    so 6 element layers across a 3 nm film (0.5 nm) multiply its iterations; the
    exchange (Sobolev) preconditioner removes the element size. Permalloy film
    100 × 50 × 3 nm, h = 5 nm, exchange + demag, from m ∝ (1, 0.25, 0.1)."""
    counts, energies = {}, {}
    for layers in (1, 6):
        mesh = femag.geometries.box(100e-9, 50e-9, 3e-9, h=5e-9, layers=layers, comm=comm)
        for pre in ("exchange", None):
            sim = femag.Simulation(mesh, femag.Material(Ms=8e5, A=1.3e-11))
            sim.add(femag.Exchange(), femag.Demag())
            sim.m = (1.0, 0.25, 0.1)
            result = sim.minimize(tol=1.0, preconditioner=pre)
            assert result.torque < 1.0
            counts[layers, pre], energies[layers, pre] = result.iterations, result.energy
        assert energies[layers, "exchange"] == pytest.approx(energies[layers, None], rel=1e-6)
    # measured (1 / 6 layers): preconditioned 68 / 55 serial, 71–75 / 79–86 on 2 ranks;
    # plain 472 / 3 100 serial, 376 / 3 333 on 2 ranks
    assert counts[6, "exchange"] < 1.5 * counts[1, "exchange"] + 10
    assert counts[6, None] > 10 * counts[6, "exchange"]
