"""The LLB equation against mean-field equilibria and its linearised dynamics (docs/llb.md).

Macrospin: a 10 nm cube with exchange (uniform m stays uniform), Ms(0) = 8e5 A/m,
Tc = 631 K, classical (Langevin) mean field, μ_at = 1 μ_B. All times in s, H in A/m.
"""
import csv
import os

import numpy as np
import pytest
from mpi4py import MPI

import femag
from femag import mean_field
from femag.material import GAMMA_DEFAULT as GAMMA, MU0
from femag.temperature import TemperatureError
from test_llg import precession_and_decay  # angular frequency (rad/s), decay time of tan(θ/2) (s)

TC = 631.0


@pytest.fixture(scope="module")
def cube(comm):
    return femag.geometries.box(10e-9, 10e-9, 10e-9, h=5e-9, comm=comm)


def material(llb_lambda=0.1, **kw):
    kw.setdefault("A", 1.3e-11)
    return femag.Material(Ms=8e5, Tc=TC, llb_lambda=llb_lambda, **kw)


def llb_sim(mesh, mat, T, m0, field=None, anisotropy=False):
    sim = femag.Simulation(mesh, mat, equation="llb")
    sim.add(femag.Exchange())
    if anisotropy:
        sim.add(femag.UniaxialAnisotropy())
    if field is not None:
        sim.add(femag.Zeeman(H=(0, 0, field)))
    sim.temperature = T
    sim.m = m0
    return sim


def lengths(sim):
    return np.linalg.norm(sim.nodal(sim.m), axis=1)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.98])
def test_relaxes_to_equilibrium_length(cube, fraction):
    """From m = 1, |m| relaxes to m_e(T) (to 1e-5 after 12 τ∥; required 0.5%)."""
    mat = material()
    T = fraction * TC
    sim = llb_sim(cube, mat, T, (0, 0, 1.0))
    tau = mean_field.longitudinal_relaxation_time(T, mat, GAMMA)
    sim.run(12 * tau, save_every=3 * tau, verbose=False)
    me = mean_field.equilibrium_m(T, mat)
    assert np.linalg.norm(sim.m_average()) == pytest.approx(me, rel=5e-3)
    assert np.allclose(lengths(sim), me, rtol=5e-3)
    # the Landau free energy μ0 Ms V (m² − m_e²)²/(8 χ∥ m_e²) is ≥ 0 and ≈ 0 here
    barrier = MU0 * mat.Ms * sim.volume * me ** 2 / (8 * mean_field.chi_parallel(T, mat))
    assert 0 <= sim.term("longitudinal").energy() < 1e-8 * barrier


def test_paramagnetic_above_tc_decays_to_zero(cube):
    """Above Tc, m = 0.01 decays monotonically to 0 at the rate 1/τ∥ (5%)."""
    mat = material()
    T = 1.05 * TC
    sim = llb_sim(cube, mat, T, (0, 0, 0.01))
    tau = mean_field.longitudinal_relaxation_time(T, mat, GAMMA)
    result = sim.run(5 * tau, save_every=tau / 2, verbose=False)
    t, mz = result.column("t"), result.column("mz")
    assert np.all(np.diff(mz) < 0) and mz[-1] > 0
    assert mz[-1] < 0.01 * np.exp(-4.5)
    rate = np.polyfit(t, np.log(mz), 1)[0]
    assert -1.0 / rate == pytest.approx(tau, rel=0.05)


@pytest.mark.parametrize("fraction", [0.5, 0.9, 1.2])
def test_linear_longitudinal_relaxation_time(cube, fraction):
    """|m| − m_e ∝ exp(−t/τ∥) with τ∥ = χ∥/(γ α∥) from the linearised LLB (5%)."""
    mat = material()
    T = fraction * TC
    me = mean_field.equilibrium_m(T, mat)
    m0 = me * 1.005 if fraction < 1 else 0.002
    sim = llb_sim(cube, mat, T, (0, 0, m0))
    tau = mean_field.longitudinal_relaxation_time(T, mat, GAMMA)
    result = sim.run(3 * tau, save_every=tau / 4, verbose=False, rtol=1e-9, atol=1e-12)
    t, mz = result.column("t"), result.column("mz")
    rate = np.polyfit(t, np.log(mz - me), 1)[0]
    assert -1.0 / rate == pytest.approx(tau, rel=0.05)


def tilted(length, theta):
    return (length * np.sin(theta), 0.0, length * np.cos(theta))


def test_low_temperature_limit_matches_llg(cube):
    """At T = 0.01 Tc an LLB macrospin in a field precesses and damps like LLG with α = λ
    (frequency and damping time within 1%)."""
    lam, H, theta = 0.05, 4e5, 0.5
    mat = material(llb_lambda=lam, alpha=lam)
    T = 0.01 * TC
    sim = llb_sim(cube, mat, T, tilted(mean_field.equilibrium_length_in_field(T, mat, H), theta),
                  field=H)
    period = 2 * np.pi / (GAMMA * H)
    omega, decay = precession_and_decay(sim.run(period, save_every=period / 16,
                                                verbose=False))
    llg = femag.Simulation(cube, mat)
    llg.add(femag.Exchange(), femag.Zeeman(H=(0, 0, H)))
    llg.m = tilted(1.0, theta)
    omega_llg, decay_llg = precession_and_decay(llg.run(period, save_every=period / 16,
                                                        verbose=False))
    assert omega == pytest.approx(omega_llg, rel=0.01)
    assert decay == pytest.approx(decay_llg, rel=0.01)


@pytest.mark.parametrize("fraction", [0.3, 0.8])
def test_transverse_dynamics_follow_alpha_perp(cube, fraction):
    """Frequency γH/2π and damping time m0/(γ α⊥ H) of the linearised LLB (2%)."""
    lam, H = 0.05, 4e5
    mat = material(llb_lambda=lam)
    T = fraction * TC
    m0 = mean_field.equilibrium_length_in_field(T, mat, H)
    sim = llb_sim(cube, mat, T, tilted(m0, 0.3), field=H)
    freq, tau = mean_field.transverse_precession(T, mat, H, GAMMA)
    period = 1.0 / freq
    result = sim.run(min(1.5 * tau, 2 * period), save_every=period / 16, verbose=False)
    omega, decay = precession_and_decay(result)
    assert omega == pytest.approx(2 * np.pi * freq, rel=0.02)
    assert decay == pytest.approx(tau, rel=0.02)


def test_anisotropy_scales_with_temperature(cube):
    """Easy-axis macrospin at 0.6 Tc: |m| stays m_e (the anisotropy field does not stretch
    it) and m precesses at ω = γ m_e/χ⊥ = γ 2K(T)/(μ0 Ms(0) m_e) about the axis (2%)."""
    mat = material(llb_lambda=0.01, Ku=5e5)
    T = 0.6 * TC
    me = mean_field.equilibrium_m(T, mat)
    sim = llb_sim(cube, mat, T, tilted(me, 0.1), anisotropy=True)
    omega_k = GAMMA * 2 * mean_field.anisotropy_constant(T, mat) / (MU0 * mat.Ms * me)
    assert omega_k == pytest.approx(GAMMA * me / mean_field.chi_perpendicular(T, mat), rel=1e-9)
    period = 2 * np.pi / omega_k
    result = sim.run(2 * period, save_every=period / 16, verbose=False)
    omega, _ = precession_and_decay(result)
    assert abs(omega) == pytest.approx(omega_k, rel=0.02)
    assert np.allclose(lengths(sim), me, rtol=2e-3)


def test_spatial_temperature_gives_local_equilibrium(cube):
    """T(x, t) = 300 K + 2e10 K/m · x: without exchange every node relaxes to m_e(T(x))."""
    mat = material(A=0.0)
    sim = llb_sim(cube, mat, lambda x, t: 300.0 + 2e10 * x[0], (0, 0, 1.0))
    T = sim.temperature.nodal(0.0)
    x = sim.node_coordinates()[: sim.n_owned, 0]
    assert np.allclose(T, 300.0 + 2e10 * x)
    assert sim.temperature() == pytest.approx(300.0, abs=1e-9)  # volume average
    tau = mean_field.longitudinal_relaxation_time(400.0, mat, GAMMA)
    sim.run(12 * tau, verbose=False)
    assert np.allclose(lengths(sim), mean_field.equilibrium_m(T, mat), rtol=1e-3)
    # the same field as a DOLFINx Function and as a nodal array
    from femag import compat
    f = compat.dolfinx.fem.Function(compat.scalar_space(cube.mesh))
    f.interpolate(lambda x: 300.0 + 2e10 * x[0])
    sim.temperature = f
    assert np.allclose(sim.temperature.at(sim.t), T)
    sim.temperature = f.x.array.copy()
    assert np.allclose(sim.temperature.at(sim.t), T)
    assert sim.temperature() == pytest.approx(300.0, abs=1e-9)


def test_two_temperature_model_and_table(cube, mpi_tmp_path):
    """A laser-heated TTM drives T(t): ⟨|m|⟩ drops; the table has m_norm and T [K]."""
    mat = material()
    ttm = femag.TwoTemperatureModel.nickel(
        T0=300.0, absorbed_energy_density=5e8, pulse_fwhm=50e-15, pulse_delay=100e-15)
    sim = llb_sim(cube, mat, ttm, (0, 0, mean_field.equilibrium_m(300.0, mat)))
    assert sim.temperature() == pytest.approx(300.0)
    out = os.path.join(mpi_tmp_path, "ttm")
    sim.run(400e-15, save_every=100e-15, output=out, verbose=False)
    with open(os.path.join(out, "table.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 5
    assert float(rows[-1]["T [K]"]) == pytest.approx(ttm(400e-15), rel=1e-9)
    assert float(rows[-1]["T [K]"]) > 500.0
    norm = [float(r["m_norm"]) for r in rows]
    assert norm[0] == pytest.approx(mean_field.equilibrium_m(300.0, mat), rel=1e-9)
    assert norm[-1] < norm[0] - 0.02  # demagnetised by the pulse


def test_bad_input(cube):
    with pytest.raises(femag.MaterialError, match="Tc"):
        femag.Material(Ms=8e5, Tc=0.0, llb_lambda=0.1)
    with pytest.raises(femag.MaterialError, match="Tc"):
        femag.Material(Ms=8e5, Tc=-1.0, llb_lambda=0.1)
    with pytest.raises(femag.MaterialError, match="llb_lambda"):
        femag.Material(Ms=8e5, Tc=TC, llb_lambda=0.0)
    with pytest.raises(femag.MaterialError, match="llb_lambda"):
        femag.Material(Ms=8e5, Tc=TC, llb_lambda=-0.1)
    with pytest.raises(femag.MaterialError, match="Tc"):
        femag.Simulation(cube, femag.Material(Ms=8e5, A=1e-11), equation="llb")
    sim = femag.Simulation(cube, material(), equation="llb")
    sim.add(femag.Exchange())
    with pytest.raises(ValueError, match="needs a temperature"):
        sim.run(1e-13, verbose=False)
    with pytest.raises(TemperatureError, match="≥ 0 K"):
        sim.temperature = -5.0
    with pytest.raises(TemperatureError, match="≥ 0 K"):
        sim.temperature = lambda x, t: 300.0 - 1e12 * x[0] - 1e4
    with pytest.raises(TemperatureError, match="finite"):
        sim.temperature = float("nan")
    with pytest.raises(TemperatureError, match="callable"):
        sim.temperature = lambda a, b, c: 1.0
    with pytest.raises(ValueError, match="length ≤ 1"):
        sim.m = (0, 0, 1.5)
    sim.temperature = 0.0
    with pytest.raises(ValueError, match="T > 0 K"):
        sim.run(1e-13, verbose=False)


def test_heat_diffusion_energy_and_mode_decay(cube):
    """HeatDiffusion: a uniform source raises T by S t/C exactly (no losses); the slowest
    Neumann mode cos(π(x + L/2)/L) decays at κπ²/(C L²) (2%)."""
    from femag.temperature import HeatDiffusion
    C, kappa, L = 4e6, 90.0, 10e-9
    heat = HeatDiffusion(cube, C=C, kappa=kappa, source=lambda x, t: 1e20, dt=1e-14)
    assert heat.mean(1e-13) == pytest.approx(300.0 + 1e20 * 1e-13 / C, rel=1e-10)
    rate = kappa * np.pi ** 2 / (C * L ** 2)
    mode = HeatDiffusion(cube, C=C, kappa=kappa, dt=0.005 / rate,
                         initial=lambda x: 300.0 + 10.0 * np.cos(np.pi * (x[0] + L / 2) / L))
    T = mode.space.tabulate_dof_coordinates()[: len(mode.at(0.0))]
    probe = np.cos(np.pi * (T[:, 0] + L / 2) / L)
    amp = [cube.comm.allreduce(float(np.dot(mode.at(t) - 300.0, probe)), op=MPI.SUM)
           for t in (0.0, 0.5 / rate, 1.0 / rate)]
    measured = np.log(amp[0] / amp[2]) * rate  # over t = 1/rate
    assert measured == pytest.approx(rate, rel=0.02)


def test_llb_with_heat_diffusion(cube):
    """A laser-like source through HeatDiffusion drives the LLB run; ⟨|m|⟩ drops as T rises."""
    from femag.temperature import HeatDiffusion
    mat = material()
    heat = HeatDiffusion(cube, C=4e6, kappa=90.0, dt=2e-15,
                         source=lambda x, t: 2e21 * np.exp(-(x[2] + 5e-9) / 15e-9))
    sim = llb_sim(cube, mat, heat, (0, 0, mean_field.equilibrium_m(300.0, mat)))
    sim.run(2e-13, verbose=False)
    assert sim.temperature() == pytest.approx(heat.mean(2e-13), rel=1e-12)
    # absorbed energy / C: mean of exp(−(z + 5 nm)/15 nm) over the 10 nm cube is 1.5(1 − e^(−2/3))
    rise = 2e21 * 1.5 * (1 - np.exp(-2 / 3)) * 2e-13 / 4e6
    assert sim.temperature() - 300.0 == pytest.approx(rise, rel=0.02)  # P1 source interpolation
    T = sim.temperature.at(sim.t)
    assert sim.comm.allreduce(float(np.max(T)), op=MPI.MAX) > sim.temperature() + 1.0
    assert np.linalg.norm(sim.m_average()) < mean_field.equilibrium_m(300.0, mat) - 0.01


def test_free_energy_decreases(comm):
    """At constant T the LLB free energy (terms + longitudinal) is a Lyapunov function:
    dF/dt = −Σ μ0 M_i γ (α∥ (m·H)² + α⊥ |m × H|²)/m² ≤ 0, for a non-uniform state
    (exchange + Zeeman, lengths and directions both relaxing)."""
    mesh = femag.geometries.box(20e-9, 10e-9, 5e-9, h=2.5e-9, comm=comm)
    mat = material(llb_lambda=0.1)
    T = 0.7 * TC
    sim = femag.Simulation(mesh, mat, equation="llb")
    sim.add(femag.Exchange(), femag.Zeeman(H=(0, 0, 2e5)))
    sim.temperature = T
    sim.m = lambda x: np.array([0.5 * np.sin(x[0] / 4e-9), 0.4 * np.cos(x[1] / 3e-9),
                                0.6 + 0 * x[0]])
    tau = mean_field.longitudinal_relaxation_time(T, mat, GAMMA)
    result = sim.run(20 * tau, save_every=tau, verbose=False)
    E = result.column("E_total")
    assert np.all(np.diff(E) < 0)
    assert result.column("E_longitudinal")[0] > 10 * abs(result.column("E_longitudinal")[-1])
