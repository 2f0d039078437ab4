"""Energy terms against analytic energies of helices, cycloids and uniform states.

Meshes: boxes drawn by femag.geometries.box. The helix m = (cos kx, sin kx, 0) with one
full period along the box; errors come from the P1 interpolation of m (O(h²)).
"""
import math

import numpy as np
import pytest

import femag
from femag.material import MU0

L, W = 40e-9, 8e-9
K_WAVE = 2 * math.pi / L
A, MS = 1.3e-11, 8.0e5


@pytest.fixture(scope="module")
def bar(comm):
    return femag.geometries.box(L, W, W, h=2e-9, comm=comm)


@pytest.fixture(scope="module")
def bar_fine(comm):
    return femag.geometries.box(L, W, W, h=1e-9, comm=comm)


def helix_xy(x):
    return np.array([np.cos(K_WAVE * x[0]), np.sin(K_WAVE * x[0]), 0 * x[0]])


def energy_of(mesh, term, m, **material):
    sim = femag.Simulation(mesh, femag.Material(Ms=MS, A=A, **material))
    sim.add(term)
    sim.m = m
    return sim.energies()[term.name], sim.volume


def test_exchange_helix_converges(bar, bar_fine):
    errors = []
    for mesh in (bar, bar_fine):
        e, vol = energy_of(mesh, femag.Exchange(), helix_xy)
        expected = A * K_WAVE ** 2 * vol
        errors.append(abs(e - expected) / expected)
    # stated mesh: h = 1 nm on a 40 nm period
    assert errors[1] < 0.01
    assert errors[1] < 0.5 * errors[0]


def test_uniaxial_anisotropy_helix(bar_fine):
    Ku = 4e5
    e, vol = energy_of(bar_fine, femag.UniaxialAnisotropy(), helix_xy, Ku=Ku, axis=(1, 0, 0))
    # w = Ku (1 - cos² kx) averages to Ku/2
    assert e == pytest.approx(Ku * vol / 2, rel=0.01)


def test_uniaxial_anisotropy_uniform_angle(bar):
    Ku, theta = 3e5, 0.4
    e, vol = energy_of(bar, femag.UniaxialAnisotropy(Ku=Ku, axis=(0, 0, 1)),
                       (math.sin(theta), 0, math.cos(theta)))
    assert e == pytest.approx(Ku * math.sin(theta) ** 2 * vol, rel=1e-10)


def test_cubic_anisotropy(bar_fine):
    Kc1 = 2e4
    e, vol = energy_of(bar_fine, femag.CubicAnisotropy(), (1, 1, 1), Kc1=Kc1)
    assert e == pytest.approx(Kc1 / 3 * vol, rel=1e-10)
    # helix in the (100) plane: w = Kc1 cos² sin² = Kc1 sin²(2kx)/4, average Kc1/8
    e, vol = energy_of(bar_fine, femag.CubicAnisotropy(), helix_xy, Kc1=Kc1)
    assert e == pytest.approx(Kc1 / 8 * vol, rel=0.01)
    # rotated crystal axes: m along the new c1 costs nothing
    axes = ((1, 1, 0), (-1, 1, 0))
    e, _ = energy_of(bar_fine, femag.CubicAnisotropy(), (1, 1, 0), Kc1=Kc1, axes=axes)
    assert abs(e) < 1e-12 * Kc1 * vol


def test_zeeman_uniform_and_tesla(bar):
    H = np.array([2e4, -1e4, 5e3])
    m = np.array([0.3, 0.4, math.sqrt(1 - 0.25)])
    e, vol = energy_of(bar, femag.Zeeman(H=tuple(H)), tuple(m))
    assert e == pytest.approx(-MU0 * MS * H.dot(m) * vol, rel=1e-10)
    e_b, _ = energy_of(bar, femag.Zeeman(B=tuple(MU0 * H)), tuple(m))
    assert e_b == pytest.approx(e, rel=1e-12)


def test_zeeman_space_and_time(bar):
    H0 = 1e4

    def ramp(x):  # H_x grows linearly along the bar: mean H0/2 over x in [-L/2, L/2] + L/2
        return np.array([H0 * (x[0] / L + 0.5), 0 * x[0], 0 * x[0]])

    z = femag.Zeeman(H=ramp, time_function=lambda t: math.cos(2 * math.pi * 1e9 * t))
    sim = femag.Simulation(bar, femag.Material(Ms=MS, A=A))
    sim.add(z)
    sim.m = (1, 0, 0)
    assert z.energy() == pytest.approx(-MU0 * MS * H0 / 2 * sim.volume, rel=1e-10)
    sim.t = 0.5e-9
    assert z.energy() == pytest.approx(+MU0 * MS * H0 / 2 * sim.volume, rel=1e-10)
    h = sim.probe([[L / 4, 0, 0]], "zeeman")[0]
    assert h == pytest.approx([-0.75 * H0, 0, 0], rel=1e-10, abs=1e-9 * H0)


def test_interfacial_dmi_cycloid(bar_fine):
    D = 3e-3
    for sign in (+1, -1):
        def cycloid(x, s=sign):
            return np.array([np.sin(s * K_WAVE * x[0]), 0 * x[0], np.cos(s * K_WAVE * x[0])])
        e, vol = energy_of(bar_fine, femag.InterfacialDMI(), cycloid, D_int=D)
        assert e == pytest.approx(sign * D * K_WAVE * vol, rel=0.01)


def test_bulk_dmi_helix(bar_fine):
    D = 3e-3
    for sign in (+1, -1):
        def helix(x, s=sign):
            return np.array([0 * x[0], np.cos(s * K_WAVE * x[0]), np.sin(s * K_WAVE * x[0])])
        e, vol = energy_of(bar_fine, femag.BulkDMI(), helix, D_bulk=D)
        assert e == pytest.approx(-sign * D * K_WAVE * vol, rel=0.01)


def test_field_is_minus_energy_gradient(bar):
    """H_i = −1/(μ0 M_i) ∂E/∂m_i: the first-order energy change along δm is −μ0 Σ M_i H_i·δm_i."""
    from mpi4py import MPI
    sim = femag.Simulation(bar, femag.Material(Ms=MS, A=A, Ku=1e5, axis=(0, 1, 0), D_int=2e-3))
    sim.add(femag.Exchange() + femag.UniaxialAnisotropy() + femag.InterfacialDMI())
    sim.m = lambda x: np.array([np.cos(K_WAVE * x[0]), np.sin(K_WAVE * x[0]), 0.3 + 0 * x[0]])
    hv = sim.nodal(sim.effective_field()).copy()
    scale = sim.comm.allreduce(float(np.abs(hv).max()), op=MPI.MAX)
    step = 1e-6 * hv / scale
    e0 = sim.energy()
    m = sim.nodal(sim.m)
    m += step
    femag.compat.scatter_forward(sim.m)
    e_plus = sim.energy()
    m -= 2 * step
    femag.compat.scatter_forward(sim.m)
    e_minus = sim.energy()
    weight = sim.field_weight.getArray().reshape(-1, 3)  # −1/(μ0 M_i), owned nodes
    predicted = sim.comm.allreduce(float(np.sum(hv / weight * step)))
    assert (e_plus - e_minus) / 2 == pytest.approx(predicted, rel=1e-6)
    assert predicted < 0 and e0 > e_plus  # moving along H lowers the energy
