"""Tests of femag.two_temperature (rank-independent, no MPI communication)."""
import math

import numpy as np
import pytest
from scipy.integrate import quad

from femag.two_temperature import TwoTemperatureModel


def approx(expected, rel=1e-6, abs=0.0):
    """pytest.approx without its default absolute tolerance of 1e-12, which would make
    comparisons of small SI quantities (χ ~ 1e-9 m/A, τ ~ 1e-13 s) vacuous."""
    return pytest.approx(expected, rel=rel, abs=abs)


def ni_pulse(**kw):
    base = dict(pulse_fluence=10.0, absorption_depth=15e-9, pulse_fwhm=100e-15,
                pulse_delay=0.5e-12)
    base.update(kw)
    return TwoTemperatureModel.nickel(**base)


def final_temperature(gamma, Cl, T0, E):
    """Lossless common final temperature: γ(T² - T0²)/2 + Cl (T - T0) = E."""
    a, b, c = gamma / 2, Cl, -(E + gamma * T0 ** 2 / 2 + Cl * T0)
    return (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)


def test_pulse_energy_and_source():
    m = ni_pulse()
    E = 10.0 / 15e-9
    assert m.pulse_energy == approx(E, rel=1e-14)
    total, _ = quad(m.source, m.pulse_delay - 1e-12, m.pulse_delay + 1e-12, points=[m.pulse_delay],
                    epsabs=0, epsrel=1e-12, limit=200)
    assert total == approx(E, rel=1e-9)
    # FWHM of the source
    half = m.source(m.pulse_delay + 0.5 * m.pulse_fwhm) / m.source(m.pulse_delay)
    assert half == approx(0.5, rel=1e-12)
    assert m.absorbed_energy(10e-12) == approx(E, rel=1e-12)
    # the three ways of giving the pulse agree
    m2 = TwoTemperatureModel(1065.0, 3.6e6, 3.6e17, absorbed_energy_density=E,
                             pulse_fwhm=100e-15, pulse_delay=0.5e-12)
    m3 = TwoTemperatureModel(1065.0, 3.6e6, 3.6e17, P0=m.P0, pulse_fwhm=100e-15,
                             pulse_delay=0.5e-12)
    assert m2.P0 == approx(m.P0, rel=1e-14) and m3.pulse_energy == approx(E)


def test_energy_conservation_without_losses():
    m = ni_pulse()
    for t in [0.4e-12, 0.5e-12, 0.7e-12, 2e-12, 20e-12]:
        absorbed = m.absorbed_energy(t)
        Te, Tl = m(t), m.lattice(t)
        stored = 0.5 * m.Ce_gamma * (Te ** 2 - 300.0 ** 2) + m.Cl * (Tl - 300.0)
        assert stored == approx(absorbed, rel=1e-3)
        assert abs(stored - absorbed) < 1e-6 * m.pulse_energy    # measured ~1e-9
        assert m.internal_energy(t) == approx(stored, rel=1e-12)
        assert m.lost_energy(t) == 0.0


def test_equilibrium_after_pulse_and_peak():
    m = ni_pulse()
    E = m.pulse_energy
    Tf = final_temperature(m.Ce_gamma, m.Cl, 300.0, E)
    t_late = 30e-12
    assert m(t_late) == approx(Tf, rel=1e-6)
    assert m.lattice(t_late) == approx(Tf, rel=1e-6)
    assert m(t_late) == approx(m.lattice(t_late), rel=1e-6)
    # peak: T_e rises during the pulse, peaks shortly after its maximum, then falls;
    # the lattice rises monotonically (no losses) and never exceeds T_e
    t = np.linspace(0.0, 5e-12, 5001)
    Te, Tl = m(t), m.lattice(t)
    i = int(np.argmax(Te))
    assert m.pulse_delay < t[i] < m.pulse_delay + 2 * m.pulse_fwhm
    assert 1000.0 < Te[i] < 3000.0          # ~1.5e3 K for 10 J/m² absorbed in Ni
    # upper bound: all energy in the electrons, none passed on
    assert Te[i] < math.sqrt(300.0 ** 2 + 2 * E / m.Ce_gamma)
    assert np.all(np.diff(Tl) >= -1e-9)
    assert np.all(Te >= Tl - 1e-6)
    assert Te[0] == approx(300.0) and Tl[0] == approx(300.0)


def test_constant_capacities_exponential_equilibration():
    """No pulse, constant C_e: T_e - T_l = Δ0 exp(-G (1/C_e + 1/C_l) t) and the mean
    (C_e T_e + C_l T_l)/(C_e + C_l) is conserved."""
    Ce, Cl, G = 2.0e5, 3.0e6, 5.0e17
    m = TwoTemperatureModel(None, Cl, G, T0=300.0, P0=0.0, Ce_constant=Ce, Te0=1500.0,
                            Tl0=300.0, rtol=1e-10, atol=1e-9)
    rate = G * (1 / Ce + 1 / Cl)
    t = np.linspace(0, 5 / rate, 101)
    Te, Tl = m(t), m.lattice(t)
    np.testing.assert_allclose(Te - Tl, 1200.0 * np.exp(-rate * t), rtol=1e-6, atol=1e-6)
    Tm = (Ce * 1500.0 + Cl * 300.0) / (Ce + Cl)
    np.testing.assert_allclose((Ce * Te + Cl * Tl) / (Ce + Cl), Tm, rtol=1e-10)


def test_linear_capacity_relaxation_conserves_energy():
    """No pulse, C_e = γ T_e: γT_e²/2 + C_l T_l is conserved and T_e → T_l."""
    m = TwoTemperatureModel(1065.0, 3.6e6, 3.6e17, P0=0.0, Te0=2000.0, Tl0=300.0)
    t = np.array([0.0, 0.1e-12, 1e-12, 50e-12])
    Te, Tl = m(t), m.lattice(t)
    U = 0.5 * 1065.0 * Te ** 2 + 3.6e6 * Tl
    np.testing.assert_allclose(U, U[0], rtol=1e-9)
    # initial rate: dT_e/dt = -G (T_e - T_l)/(γ T_e)
    h = 1e-18
    assert (m(h) - 2000.0) / h == approx(-3.6e17 * 1700.0 / (1065.0 * 2000.0), rel=1e-4)
    assert Te[-1] == approx(Tl[-1], rel=1e-7)


def test_heat_loss_to_substrate():
    m = ni_pulse(tau_substrate=50e-12)
    for t in [1e-12, 20e-12, 100e-12]:
        balance = m.internal_energy(t) + m.lost_energy(t)
        assert balance == approx(m.absorbed_energy(t), rel=1e-6)
    assert m.lost_energy(100e-12) > 0.5 * m.pulse_energy
    assert m(2e-9) == approx(300.0, abs=1e-3)
    assert m.lattice(2e-9) == approx(300.0, abs=1e-3)


def test_callable_queries_monotonic_and_random_order():
    m = ni_pulse()
    ts = np.linspace(0, 10e-12, 400)
    seq = np.array([m(t) for t in ts])                 # a time stepper: increasing t
    assert isinstance(m(1e-12), float)
    m2 = ni_pulse()
    np.testing.assert_allclose(m2(ts[::-1])[::-1], seq, rtol=1e-6)    # one array query
    np.testing.assert_allclose(m(ts), seq, rtol=1e-12)
    assert len(m._sols) < 12                           # lazy extension is geometric
    assert m(np.zeros((2, 2))).shape == (2, 2)
    with pytest.raises(ValueError, match="t0"):
        m(-1e-12)


def test_usable_as_llb_temperature():
    """The model plugs into the mean-field functions: T_e(t) → m_e(T_e(t))."""
    import types
    from femag import mean_field as mf
    ni = types.SimpleNamespace(Tc=627.0, spin=0.5, mu_atom=0.62 * mf.MU_B, Ms=4.9e5,
                               A=9e-12, Ku=-5.7e3, llb_lambda=0.01,
                               anisotropy_model="callen-callen", equilibrium=None)
    m = ni_pulse(pulse_fluence=15.0)
    t = np.linspace(0, 40e-12, 400)
    me = mf.equilibrium_m(m(t), ni)
    assert me[0] == approx(mf.equilibrium_m(300.0, ni))
    assert me.min() == 0.0                              # electrons pass Tc
    assert me[-1] > 0                                   # lattice-limited final state < Tc


@pytest.mark.parametrize("kw,match", [
    (dict(Ce_gamma=-1.0), "Ce_gamma"), (dict(Cl=0.0), "Cl"), (dict(G=-1.0), "G"),
    (dict(T0=0.0), "T0"), (dict(pulse_fwhm=0.0), "pulse_fwhm"),
    (dict(tau_substrate=-1.0), "tau_substrate"),
])
def test_validation(kw, match):
    base = dict(Ce_gamma=1065.0, Cl=3.6e6, G=3.6e17, T0=300.0, P0=1e20)
    base.update(kw)
    with pytest.raises(ValueError, match=match):
        TwoTemperatureModel(**base)
    with pytest.raises(ValueError, match="exactly one"):
        TwoTemperatureModel(1065.0, 3.6e6, 3.6e17, P0=1e20, absorbed_energy_density=1e8)
    with pytest.raises(ValueError, match="absorption_depth"):
        TwoTemperatureModel(1065.0, 3.6e6, 3.6e17, pulse_fluence=10.0)
