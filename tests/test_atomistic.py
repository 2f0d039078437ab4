"""Atomistic Metropolis Monte Carlo: exact small systems, fluctuation relations,
equipartition, known critical temperatures (Binder crossings), Mermin–Wagner, and
the tabulated curves handed to the LLB equation.

Temperatures are given with J = k_B·1 K, so T in K equals k_B T/J.
"""
import math
import types

import numpy as np
import pytest
from mpi4py import MPI

from femag import atomistic as at
from femag import atomistic_kernels as ak

serial = pytest.mark.skip_in_parallel


# ---------------------------------------------------------------------------------
# generator and lattices
# ---------------------------------------------------------------------------------
def test_rng_reproducible_and_uniform():
    a = ak.uniform_doubles(ak.seed_state(7), 200000)
    b = ak.uniform_doubles(ak.seed_state(7), 200000)
    c = ak.uniform_doubles(ak.seed_state(8), 200000)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.min() >= 0.0 and a.max() < 1.0
    # mean 1/2 ± 5σ, variance 1/12, no lag-1 correlation
    n = a.size
    assert abs(a.mean() - 0.5) < 5 * math.sqrt(1 / 12 / n)
    assert abs(a.var() - 1 / 12) < 5 * math.sqrt(1 / 180 / n)
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 5 / math.sqrt(n)
    # histogram: chi-square over 20 bins
    h, _ = np.histogram(a, bins=20, range=(0, 1))
    chi2 = np.sum((h - n / 20) ** 2 / (n / 20))
    assert chi2 < 60   # 19 dof; p ~ 1e-6


@pytest.mark.parametrize("name,L,N,z", [("square", 5, 25, 4), ("sc", 4, 64, 6),
                                        ("bcc", 3, 54, 8), ("fcc", 3, 108, 12)])
def test_neighbour_tables(name, L, N, z):
    nbr, pos = at.neighbour_table(name, L)
    assert nbr.shape == (N, z)
    lat = at.lattice(name)
    assert lat.z == z
    # symmetric, no self-neighbours, distinct neighbours
    for i in range(N):
        assert len(set(nbr[i])) == z and i not in nbr[i]
        for j in nbr[i]:
            assert i in nbr[j]
    # minimum-image distance of every neighbour = nearest-neighbour distance
    d = pos[nbr] - pos[:, None, :]
    box = np.array([L, L, L if lat.dim == 3 else 1e9])
    d -= box * np.round(d / box)
    dist = np.linalg.norm(d, axis=2)
    assert np.allclose(dist, lat.nn_distance)
    # density: N sites in L^dim cells of volume_per_atom * atoms_per_cell
    assert N == lat.atoms_per_cell * L ** lat.dim
    assert lat.volume_per_atom * lat.atoms_per_cell == pytest.approx(1.0)


def test_bookkeeping_and_reproducibility():
    for model in ("heisenberg", "xy", "ising"):
        mc = at.MonteCarlo("bcc", 3, model, seed=3, initial="random")
        s = mc.sample(2.0, 400, thermalise=10, blocks=10, keep_series=True)
        # incremental energy / moment of the kernel == recomputed from the spins
        assert s.e_series[-1] == pytest.approx(mc.energy() / mc.N, rel=1e-10, abs=1e-30)
        assert np.allclose(s.m_series[-1], mc.magnetisation(), atol=1e-12)
        if model != "ising":
            assert np.allclose(np.linalg.norm(mc.spins, axis=1), 1.0)
        if model == "xy":
            assert np.all(mc.spins[:, 2] == 0.0)
        mc2 = at.MonteCarlo("bcc", 3, model, seed=3, initial="random")
        s2 = mc2.sample(2.0, 400, thermalise=10, blocks=10)
        assert s2.energy == s.energy and s2.m == s.m


def test_input_validation():
    with pytest.raises(ValueError):
        at.MonteCarlo("hcp", 4)
    with pytest.raises(ValueError):
        at.MonteCarlo("sc", 4, model="potts")
    with pytest.raises(ValueError):
        at.MonteCarlo("sc", 4, J=-1e-21)
    with pytest.raises(ValueError):
        at.MonteCarlo("square", 4, model="xy", H=1e5)
    with pytest.raises(ValueError):
        at.MonteCarlo("sc", 4).sample(-1.0, 100)
    with pytest.raises(ValueError):
        at.MonteCarlo("sc", 4, model="ising", move="adaptive")


# ---------------------------------------------------------------------------------
# exact results on small systems
# ---------------------------------------------------------------------------------
def _ising_exact(nbr, t):
    """Exact ⟨e⟩, ⟨|m|⟩, ⟨m²⟩, ⟨m⁴⟩ of the Ising model by enumeration."""
    N = nbr.shape[0]
    states = np.arange(2 ** N, dtype=np.int64)
    s = 1 - 2 * ((states[:, None] >> np.arange(N)) & 1)      # (2^N, N) ±1
    E = -0.5 * np.einsum("ki,kij->k", s, s[:, nbr], optimize=True)
    m = s.mean(axis=1)
    w = np.exp(-(E - E.min()) / t)
    w /= w.sum()
    return (w @ E / N, w @ np.abs(m), w @ m ** 2, w @ m ** 4)


@serial
def test_ising_matches_exact_enumeration():
    """4×4 periodic Ising model (65536 states): MC averages within 4σ of the exact
    ones at three temperatures. A wrong acceptance (e.g. ΔE without its factor 2)
    misses by tens of σ."""
    nbr, _ = at.neighbour_table("square", 4)
    for t in (1.8, 2.3, 3.5):
        e_ex, m_ex, m2_ex, m4_ex = _ising_exact(nbr, t)
        s = at.MonteCarlo("square", 4, "ising", seed=11).sample(t, 100000, blocks=20)
        assert abs(s.energy / at.KB - e_ex) < 4 * s.energy_err / at.KB + 1e-3
        assert abs(s.m - m_ex) < 4 * s.m_err + 1e-3
        U_ex = 1 - m4_ex / (3 * m2_ex ** 2)
        assert abs(s.binder - U_ex) < 4 * s.binder_err + 1e-3


@serial
def test_fluctuation_dissipation_heisenberg():
    """Paramagnetic sc Heisenberg (T = 3 J/k_B): χ_0 from zero-field fluctuations
    equals the response ⟨m_z⟩/H to a small field, and C from energy fluctuations
    equals d⟨e⟩/dT; also χ follows Curie–Weiss at high T."""
    J, mu = 1.0 * at.KB, at.MU_B
    T = 3.0
    s0 = at.MonteCarlo("sc", 6, J=J, seed=1, initial="random").sample(T, 20000)
    # field with h = μ μ0 H / J = 0.05 (linear regime: χ h ≪ 1)
    H = 0.05 * J / (mu * at.MU0)
    sh = at.MonteCarlo("sc", 6, J=J, H=H, seed=2, initial="random").sample(T, 20000)
    response = sh.mz / H
    err = math.hypot(sh.mz_err / H, s0.chi_zero_field_err)
    assert abs(response - s0.chi_zero_field) < 4 * err
    assert s0.chi_zero_field_err < 0.05 * s0.chi_zero_field
    # heat capacity: finite difference of the energy at T ± 0.15
    dT = 0.15
    ep = at.MonteCarlo("sc", 6, J=J, seed=3).sample(T + dT, 20000)
    em = at.MonteCarlo("sc", 6, J=J, seed=4).sample(T - dT, 20000)
    C_fd = (ep.energy - em.energy) / (2 * dT)
    C_err = math.hypot(ep.energy_err, em.energy_err) / (2 * dT)
    assert abs(C_fd - s0.heat_capacity) < 4 * math.hypot(C_err, s0.heat_capacity_err) \
        + 0.02 * s0.heat_capacity
    # Curie–Weiss with θ = Tc_MF = zJ/(3k_B) = 2 K: χ = μ0 μ/(3 k_B (T − θ)) to O(θ/T)²
    s_hot = at.MonteCarlo("sc", 6, J=J, seed=5).sample(40.0, 20000)
    chi_cw = at.MU0 * mu / (3 * at.KB * (40.0 - 2.0))
    assert s_hot.chi_zero_field == pytest.approx(chi_cw, rel=0.03)


@serial
def test_low_temperature_equipartition_and_moves():
    """At low T each vector spin has n−1 quadratic transverse modes, so the energy per
    spin is −z/2 + (n−1)/2 t (units J); checks the Boltzmann weights of the adaptive
    move for Heisenberg and XY. Uniform and adaptive moves agree at T = 1.2."""
    t = 0.05
    for model, ncomp in (("heisenberg", 3), ("xy", 2)):
        s = at.MonteCarlo("sc", 6, model, seed=9, move="adaptive").sample(t, 4000)
        e = s.energy / at.KB
        assert e == pytest.approx(-3.0 + 0.5 * (ncomp - 1) * t, abs=0.1 * t)
        assert s.heat_capacity / at.KB == pytest.approx(0.5 * (ncomp - 1), rel=0.1)
    a = at.MonteCarlo("sc", 6, seed=1, move="uniform").sample(1.2, 20000)
    b = at.MonteCarlo("sc", 6, seed=2, move="adaptive").sample(1.2, 20000)
    assert abs(a.energy - b.energy) < 4 * math.hypot(a.energy_err, b.energy_err)
    assert abs(a.m - b.m) < 4 * math.hypot(a.m_err, b.m_err)


# ---------------------------------------------------------------------------------
# critical temperatures from Binder crossings
# ---------------------------------------------------------------------------------
@serial
def test_ising_2d_onsager_tc():
    """Binder crossing of L = 16 and 32 within 2 % of Onsager's 2/ln(1+√2); the
    statistical error is small enough (< 0.5 %) for the 2 % test to mean something."""
    tc = at.onsager_tc()
    r = at.curie_temperature("square", (16, 32), tc * np.linspace(0.98, 1.02, 5),
                             model="ising", sweeps=40000, seed=1)
    assert r.Tc == pytest.approx(tc, rel=0.02)
    assert r.Tc_err < 0.005 * tc
    # the crossing value U* is universal: ≈ 0.611 for the periodic square lattice
    i = int(np.argmin(np.abs(r.scans[32].T - r.Tc)))
    assert r.scans[32].binder[i] == pytest.approx(0.611, abs=0.03)


@pytest.fixture(scope="module")
def heisenberg_sc():
    tc = at.HEISENBERG_SC_TC
    return at.curie_temperature("sc", (6, 12), tc * np.linspace(0.98, 1.02, 5),
                                sweeps=40000, seed=2)


@serial
def test_heisenberg_sc_tc(heisenberg_sc):
    """3D classical Heisenberg on sc: Binder crossing within 2 % of 1.443 J/k_B, with a
    statistical error below 0.7 %; mean field (z/3 = 2) overestimates it by 1/0.72."""
    r = heisenberg_sc
    assert r.Tc == pytest.approx(1.443, rel=0.02)
    assert r.Tc_err < 0.007 * 1.443
    from femag.multiscale import mean_field_curie_temperature
    tc_mf = mean_field_curie_temperature(at.KB, "sc")      # J = k_B·1 K → 2 K
    assert tc_mf == pytest.approx(2.0)
    assert r.Tc / tc_mf == pytest.approx(0.7215, rel=0.02)


# ---------------------------------------------------------------------------------
# Mermin–Wagner
# ---------------------------------------------------------------------------------
def _spin_wave_G(L):
    """(1/N) Σ_{k≠0} 1/ε_k on the L×L square lattice, ε_k = 4 − 2cos kx − 2cos ky."""
    k = 2 * np.pi * np.arange(L) / L
    eps = 4 - 2 * np.cos(k)[:, None] - 2 * np.cos(k)[None, :]
    eps[0, 0] = np.inf
    return float(np.sum(1 / eps) / L ** 2)


@serial
def test_mermin_wagner():
    """2D Heisenberg and XY at T = 0.3 J/k_B: m falls as L grows (8, 16, 32), by the
    amount spin-wave theory predicts, m(L) ≈ 1 − (n−1) t G(L)/2 with G ~ ln(L)/(2π),
    to first order in t. The 2D Ising magnetisation at T = 2 J/k_B < Tc does not fall
    and equals Yang's exact value 0.9113."""
    t = 0.3
    sizes = (8, 16, 32)
    for model, n in (("heisenberg", 3), ("xy", 2)):
        ms = [at.MonteCarlo("square", L, model, seed=L, move="adaptive")
              .sample(t, 12000, thermalise=4000) for L in sizes]
        for a, b in zip(ms[:-1], ms[1:]):
            assert a.m - b.m > 5 * math.hypot(a.m_err, b.m_err)
        drop = ms[0].m - ms[-1].m
        drop_sw = 0.5 * (n - 1) * t * (_spin_wave_G(32) - _spin_wave_G(8))
        assert 0.85 < drop / drop_sw < 1.4
    mi = [at.MonteCarlo("square", L, "ising", seed=L).sample(2.0, 20000) for L in sizes]
    exact = float(at.ising_2d_magnetisation(2.0))
    assert abs(mi[0].m - mi[-1].m) < 0.005
    assert mi[-1].m == pytest.approx(exact, rel=0.005)


# ---------------------------------------------------------------------------------
# equilibrium curves for the LLB equation, MPI sharing
# ---------------------------------------------------------------------------------
def test_scan_independent_of_rank_count():
    T = [1.5, 2.0, 2.5, 3.0]
    a = at.temperature_scan("square", 6, T, model="ising", sweeps=800, seed=5,
                            comm=MPI.COMM_WORLD)
    b = at.temperature_scan("square", 6, T, model="ising", sweeps=800, seed=5)
    assert np.array_equal(a.m, b.m) and np.array_equal(a.energy, b.energy)


@serial
def test_equilibrium_curves_feed_mean_field():
    """Monte-Carlo curves for a realistic J on sc: Tc = 1.443 J/k_B (K) within 3 %,
    m_e decreasing, χ∥ peaked near Tc, accepted by femag.mean_field as a table."""
    from femag import mean_field as mf
    J = 5.0e-21                                   # J
    tc_ref = at.HEISENBERG_SC_TC * J / at.KB      # ≈ 522.6 K
    T = tc_ref * np.array([0.1, 0.3, 0.5, 0.7, 0.85, 0.95, 1.05, 1.2, 1.5])
    eq = at.equilibrium_curves(J, "sc", T, L=8, sweeps=3000, seed=3,
                               refine_sweeps=8000)
    assert isinstance(eq, mf.TabulatedEquilibrium)
    assert eq.Tc == pytest.approx(tc_ref, rel=0.03)
    assert eq.Tc_err < 0.02 * eq.Tc
    assert np.all(np.diff(eq.m_e) < 0)
    # low T: spin waves, m ≈ 1 − t (1/N) Σ_{k≠0} 1/(6 − 2 Σ cos k_α) (n − 1 = 2 modes)
    k = 2 * np.pi * np.arange(8) / 8
    eps = 6 - 2 * (np.cos(k)[:, None, None] + np.cos(k)[None, :, None]
                   + np.cos(k)[None, None, :])
    eps[0, 0, 0] = np.inf
    t_low = 0.1 * at.HEISENBERG_SC_TC
    assert eq.m_e[0] == pytest.approx(1 - t_low * np.sum(1 / eps) / 512, abs=0.005)
    assert np.all(eq.chi_par > 0) and np.all(eq.m_e_err > 0)
    assert np.argmax(eq.chi_par) in (5, 6)
    # the LLB thermodynamics module uses the table
    mat = types.SimpleNamespace(Tc=eq.Tc, equilibrium=eq, spin=None, mu_atom=None)
    below = T < eq.Tc
    assert np.allclose(mf.equilibrium_m(T[below], mat), eq.m_e[below], rtol=1e-6)
    assert np.allclose(mf.chi_parallel(T, mat), eq.chi_par, rtol=1e-6)
    assert mf.equilibrium_m(1.01 * eq.Tc, mat) == 0.0


@serial
def test_attempt_rate():
    """Compiled kernel speed (loose bound; the benchmark reports the real number)."""
    rate = at.MonteCarlo("sc", 16, seed=0).attempts_per_second(1.443, sweeps=50)
    assert rate > 3e6
