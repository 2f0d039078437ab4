"""Tests of femag.mean_field: the thermodynamics behind the LLB equation.

Every reference value is computed here independently of femag (own Langevin /
Brillouin functions, scipy root finders and ODE integrators, direct quadrature of the
anisotropic mean field). The tests are rank-independent (no MPI communication).
"""
import math
import types

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq, fsolve

from femag import mean_field as mf

MU_B = 9.2740100783e-24   # J/T
KB = 1.380649e-23         # J/K
MU0 = 1.25663706212e-6    # T m/A
GAMMA = 2.2128e5          # m/(A s)


def approx(expected, rel=1e-6, abs=0.0):
    """pytest.approx without its default absolute tolerance of 1e-12, which would make
    comparisons of small SI quantities (χ ~ 1e-9 m/A, τ ~ 1e-13 s) vacuous."""
    return pytest.approx(expected, rel=rel, abs=abs)


def material(**kw):
    base = dict(Tc=600.0, spin=None, mu_atom=2 * MU_B, Ms=1.0e6, A=1.0e-11, Ku=2.0e5,
                llb_lambda=0.1, anisotropy_model="chi-perp", equilibrium=None)
    base.update(kw)
    return types.SimpleNamespace(**base)


# ---- independent Brillouin / Langevin functions ------------------------------------
def pq(spin):
    if spin is None:
        return 1.0, 0.0
    return (2 * spin + 1) / (2 * spin), 1 / (2 * spin)


def B_ref(x, spin):
    """B_S(x) (or L(x)); series below |x| < 0.05 (coefficients of coth y - 1/y)."""
    p, q = pq(spin)
    coef = [1 / 3, -1 / 45, 2 / 945, -1 / 4725, 2 / 93555]
    if abs(p * x) < 0.05:
        return sum(c * (p ** (2 * n + 2) - q ** (2 * n + 2)) * x ** (2 * n + 1)
                   for n, c in enumerate(coef))
    if q == 0:
        return 1 / math.tanh(x) - 1 / x
    return p / math.tanh(p * x) - q / math.tanh(q * x)


def a_of(spin):
    return 1 / 3 if spin is None else (spin + 1) / (3 * spin)


def m_in_field(t, u, spin, branch=None):
    """Mean-field m at reduced temperature t in the reduced field u = μ_at μ0 H/(k_B Tc):
    m = B((m/a + u)/t). ``branch``: a bracket inside the wanted solution's basin."""
    a = a_of(spin)

    def g(m):
        return B_ref((m / a + u) / t, spin) - m
    lo, hi = branch if branch is not None else (-1.0, 1.0)
    return brentq(g, lo, hi, xtol=1e-16, rtol=1e-15, maxiter=500)


def me_ref(t, spin):
    if t >= 1:
        return 0.0
    return m_in_field(t, 0.0, spin, branch=(1e-9, 1.0))


SPINS = [None, 0.5, 1.0, 3.5]


# ---- equilibrium magnetisation ------------------------------------------------------
@pytest.mark.parametrize("spin", SPINS)
def test_equilibrium_m_matches_independent_solution(spin):
    mat = material(spin=spin)
    t = np.array([0.05, 0.2, 0.5, 0.8, 0.95, 0.99])
    m = mf.equilibrium_m(t * mat.Tc, mat)
    ref = np.array([me_ref(ti, spin) for ti in t])
    np.testing.assert_allclose(m, ref, rtol=1e-11, atol=0)
    # array shape preserved, scalars give floats, m_e = 0 at/above Tc, 1 at T = 0
    assert isinstance(mf.equilibrium_m(300.0, mat), float)
    assert mf.equilibrium_m(np.full((2, 3), 300.0), mat).shape == (2, 3)
    np.testing.assert_array_equal(mf.equilibrium_m([600.0, 700.0, 6000.0], mat), 0.0)
    assert mf.equilibrium_m(0.0, mat) == 1.0


def test_spin_half_is_tanh():
    mat = material(spin=0.5)
    for t in [0.1, 0.5, 0.9, 0.999]:
        ref = brentq(lambda m: math.tanh(m / t) - m, 1e-6, 1.0, xtol=1e-16, rtol=1e-15)
        assert mf.equilibrium_m(t * mat.Tc, mat) == approx(ref, rel=1e-12)


def test_classical_low_temperature_expansion():
    mat = material(spin=None)
    for t in [1e-6, 1e-4, 1e-3, 1e-2]:
        m = mf.equilibrium_m(t * mat.Tc, mat)
        # L(x) = 1 - 1/x up to e^(-2x) ~ e^(-6/t): m = 1 - t/(3m), i.e.
        # m = (1 + sqrt(1 - 4t/3))/2 = 1 - t/3 - t²/9 - ...
        assert abs(m - (1 - t / 3)) < 0.2 * t ** 2 + 1e-15
        assert m == approx((1 + math.sqrt(1 - 4 * t / 3)) / 2, rel=1e-15, abs=2e-16)


@pytest.mark.parametrize("spin,C", [(None, 5 / 3), (0.5, 3.0), (1.0, 8 / 3), (3.5, 27 / 13)])
def test_critical_behaviour(spin, C):
    """m_e² ≈ C (Tc - T)/Tc just below Tc, C = a³/c of B(x) ≈ a x - c x³."""
    mat = material(spin=spin)
    assert mf.critical_amplitude(spin) == approx(C, rel=1e-14)
    for eps in [1e-3, 1e-5, 1e-8]:
        T = mat.Tc * (1 - eps)
        eps_exact = (mat.Tc - T) / mat.Tc
        m = mf.equilibrium_m(T, mat)
        assert m ** 2 / eps_exact == approx(C, rel=1e-2)
    # and the relative accuracy of the solver near Tc does not degrade
    T = mat.Tc * (1 - 1e-6)
    assert mf.equilibrium_m(T, mat) == approx(me_ref(T / mat.Tc, spin), rel=1e-9)


# ---- longitudinal susceptibility ----------------------------------------------------
@pytest.mark.parametrize("spin", [None, 0.5, 2.0])
@pytest.mark.parametrize("t", [0.3, 0.7, 0.95, 1.2, 2.0])
def test_chi_parallel_matches_finite_difference(spin, t):
    """χ∥ = ∂m/∂H from m = B((J0 m + μ_at μ0 H)/(k_B T)), central difference of m(H)."""
    mat = material(spin=spin)
    unit = mat.mu_atom * MU0 / (KB * mat.Tc)     # (m/A) per unit of u
    h = 1e-6
    if t < 1:
        m0 = me_ref(t, spin)
        br = (0.5 * m0, 1.0)
    else:
        br = (-1.0, 1.0)
    dm = (m_in_field(t, h, spin, br) - m_in_field(t, -h, spin, br)) / (2 * h)
    chi_fd = dm * unit
    chi = mf.chi_parallel(t * mat.Tc, mat)
    assert chi == approx(chi_fd, rel=1e-4)


@pytest.mark.parametrize("spin", SPINS)
def test_chi_parallel_near_tc_and_limits(spin):
    mat = material(spin=spin)
    d = 1e-5 * mat.Tc
    below, above = mf.chi_parallel([mat.Tc - d, mat.Tc + d], mat)
    d_exact = (mat.Tc + d) - mat.Tc                         # as rounded in T
    assert above == approx(a_of(spin) * mat.mu_atom * MU0 / (KB * d_exact), rel=1e-12)
    assert 2 * below == approx(above, rel=1e-3)   # Landau: factor 2 below Tc
    assert mf.chi_parallel(mat.Tc, mat) == math.inf
    assert mf.chi_parallel(0.0, mat) == 0.0


# ---- transverse susceptibility and anisotropy ---------------------------------------
def _classical_anisotropic_mean_field(t, u, delta):
    """m = ⟨s⟩ for ρ(s) ∝ exp[((3 m + u e_x)·s + δ s_z²)/t] (classical spins, energies in
    k_B Tc; single-ion anisotropy δ = d/(k_B Tc)), solved for (m_x, m_z)."""
    mu, w = np.polynomial.legendre.leggauss(160)
    phi = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    MU, PHI = np.meshgrid(mu, phi, indexing="ij")
    W = np.broadcast_to(w[:, None], MU.shape)
    sx = np.sqrt(1 - MU ** 2) * np.cos(PHI)
    sz = MU

    def avg(m):
        hx, hz = 3 * m[0] + u, 3 * m[1]
        e = (hx * sx + hz * sz + delta * sz ** 2) / t
        wgt = W * np.exp(e - e.max())
        Z = wgt.sum()
        return np.array([(wgt * sx).sum() / Z, (wgt * sz).sum() / Z])

    m0 = np.array([0.0, me_ref(t, None)])
    sol = fsolve(lambda m: avg(m) - m, m0, xtol=1e-13)
    return sol


def _spin1_anisotropic_mean_field(t, u, delta):
    """Quantum S = 1 analogue: H_ion = -(h·Ŝ)/S - δ Ŝ_z² (units k_B Tc), h = J0 m + u e_x,
    J0 = 3S/(S+1) = 3/2; m = ⟨Ŝ⟩/S."""
    S = 1.0
    Sz = np.diag([1.0, 0.0, -1.0])
    Sx = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]]) / math.sqrt(2)
    J0 = 3 * S / (S + 1)

    def avg(m):
        H = -((J0 * m[0] + u) * Sx + J0 * m[1] * Sz) / S - delta * Sz @ Sz
        ev, V = np.linalg.eigh(H)
        p = np.exp(-(ev - ev.min()) / t)
        rho = (V * p) @ V.T / p.sum()
        return np.array([np.trace(rho @ Sx), np.trace(rho @ Sz)]) / S

    m0 = np.array([0.0, me_ref(t, 1.0)])
    return fsolve(lambda m: avg(m) - m, m0, xtol=1e-13)


@pytest.mark.parametrize("spin", [None, 1.0])
@pytest.mark.parametrize("t", [0.3, 0.6, 0.85])
def test_chi_perpendicular_matches_anisotropic_mean_field(spin, t):
    """χ⊥ of the "chi-perp" model = transverse response of the mean field with a weak
    single-ion anisotropy -d s_z² (K0 = n d per volume (classical), n d S(2S-1)/2 (spin S),
    n = Ms/μ_at), computed by direct quadrature / diagonalisation."""
    delta = 1e-4                                  # d/(k_B Tc)
    mat = material(spin=spin)
    n = mat.Ms / mat.mu_atom
    d = delta * KB * mat.Tc
    mat.Ku = n * d if spin is None else n * d * spin * (2 * spin - 1) / 2
    u = 1e-3 * delta * (1 - t)                    # tilt of ~1e-3 rad
    solver = _classical_anisotropic_mean_field if spin is None else _spin1_anisotropic_mean_field
    mx, mz = solver(t, u, delta)
    H = u * KB * mat.Tc / (mat.mu_atom * MU0)
    chi_num = mx / H
    assert mf.chi_perpendicular(t * mat.Tc, mat) == approx(chi_num, rel=2e-4)  # meas. 1e-5


@pytest.mark.parametrize("spin", SPINS)
@pytest.mark.parametrize("model", ["chi-perp", "callen-callen"])
def test_anisotropy_and_chi_perp_consistent(spin, model):
    mat = material(spin=spin, anisotropy_model=model)
    T = np.array([0.0, 60.0, 300.0, 540.0, 599.0])
    K = mf.anisotropy_constant(T, mat)
    chi = mf.chi_perpendicular(T[1:], mat)
    m = mf.equilibrium_m(T, mat)
    np.testing.assert_allclose(K[1:], MU0 * mat.Ms * m[1:] ** 2 / (2 * chi), rtol=1e-12)
    assert K[0] == approx(mat.Ku, rel=1e-12)
    if model == "callen-callen":
        np.testing.assert_allclose(K, mat.Ku * m ** 3, rtol=1e-12)
    elif spin is None:
        np.testing.assert_allclose(K, mat.Ku * (1 - T / mat.Tc), rtol=1e-10)
    elif spin == 0.5:
        np.testing.assert_allclose(K, mat.Ku * m ** 2, rtol=1e-12)
    # above Tc: no anisotropy, χ⊥ = χ∥ (Curie–Weiss)
    Th = np.array([601.0, 900.0])
    np.testing.assert_array_equal(mf.anisotropy_constant(Th, mat), 0.0)
    np.testing.assert_allclose(mf.chi_perpendicular(Th, mat), mf.chi_parallel(Th, mat),
                               rtol=1e-14)


def test_chi_perp_classical_finite_at_tc_and_no_anisotropy():
    mat = material()
    chi_tc = mf.chi_perpendicular(mat.Tc * (1 - 1e-7), mat)
    assert chi_tc == approx(5 * MU0 * mat.Ms / (6 * mat.Ku), rel=1e-5)
    mat.Ku = 0.0
    assert mf.chi_perpendicular(300.0, mat) == math.inf
    assert mf.anisotropy_constant(300.0, mat) == 0.0
    # hard axis: K < 0 gives χ⊥ < 0, keeping -m⊥/χ⊥ = 2K/(μ0 Ms m_e²) (m·u)u
    mat.Ku = -5.0e3
    K, chi = mf.anisotropy_constant(300.0, mat), mf.chi_perpendicular(300.0, mat)
    assert K == approx(-5.0e3 * 0.5, rel=1e-12) and chi < 0
    assert K == approx(MU0 * mat.Ms * mf.equilibrium_m(300.0, mat) ** 2 / (2 * chi))


def test_quantum_single_ion_reduction_low_and_high_t():
    """Spin S ≥ 1: Φ = (3⟨S_z²⟩ - S(S+1))/(S(2S-1)) → 1 at T = 0 and ∝ m_e² near Tc."""
    mat = material(spin=2.0)
    assert mf.anisotropy_reduction(1e-3 * mat.Tc, mat) == approx(1.0, abs=1e-9)
    T1, T2 = mat.Tc * (1 - 1e-4), mat.Tc * (1 - 2e-4)
    r = mf.anisotropy_reduction([T1, T2], mat) / mf.equilibrium_m([T1, T2], mat) ** 2
    assert r[0] == approx(r[1], rel=1e-3)
    # ⟨S_z²⟩ from an explicit Boltzmann sum at one temperature
    t = 0.6
    S = 2.0
    m = mf.equilibrium_m(t * mat.Tc, mat)
    x = m / (a_of(S) * t)
    M = np.arange(-S, S + 1)
    w = np.exp(x * M / S)
    Sz2 = (w * M ** 2).sum() / w.sum()
    assert (w * M).sum() / w.sum() / S == approx(m, rel=1e-12)
    phi = (3 * Sz2 - S * (S + 1)) / (S * (2 * S - 1))
    assert mf.anisotropy_reduction(t * mat.Tc, mat) == approx(phi, rel=1e-11)


def test_exchange_stiffness():
    mat = material(spin=1.0)
    T = np.array([0.0, 200.0, 590.0, 650.0])
    np.testing.assert_allclose(mf.exchange_stiffness(T, mat),
                               mat.A * mf.equilibrium_m(T, mat) ** 2, rtol=1e-15)
    assert mf.exchange_stiffness(0.0, mat) == approx(mat.A)
    assert mf.exchange_stiffness(650.0, mat) == 0.0


# ---- longitudinal field --------------------------------------------------------------
@pytest.mark.parametrize("spin", SPINS)
def test_longitudinal_field_forms_and_continuity(spin):
    mat = material(spin=spin)
    Tc = mat.Tc
    # below Tc: (1/(2χ∥))(1 - m²/m_e²); above: -(1/χ∥)(1 + ξ Tc m²/(T - Tc))
    T = 0.7 * Tc
    me, chi = mf.equilibrium_m(T, mat), mf.chi_parallel(T, mat)
    m2 = np.array([0.0, 0.25, me ** 2, 0.9])
    np.testing.assert_allclose(mf.longitudinal_field(m2, T, mat),
                               (1 - m2 / me ** 2) / (2 * chi), rtol=1e-13, atol=1e-20)
    assert mf.longitudinal_field(me ** 2, T, mat) == 0.0
    T = 1.3 * Tc
    chi = mf.chi_parallel(T, mat)
    xi = mf.landau_coefficient(spin)
    np.testing.assert_allclose(mf.longitudinal_field(m2, T, mat),
                               -(1 + xi * Tc * m2 / (T - Tc)) / chi, rtol=1e-12)
    # continuity through Tc for several |m|
    for m in [0.01, 0.05, 0.2]:
        f_tc = mf.longitudinal_field(m * m, Tc, mat)
        assert np.isfinite(f_tc) and f_tc < 0
        prev = None
        for eps in m * m * np.array([1e-2, 1e-3, 1e-4]):    # needs Tc - T ≪ m² Tc
            lo = mf.longitudinal_field(m * m, Tc * (1 - eps), mat)
            hi = mf.longitudinal_field(m * m, Tc * (1 + eps), mat)
            jump = abs(hi - lo) / abs(f_tc)
            if prev is not None:
                assert jump < 0.2 * prev      # the jump closes ∝ eps
            prev = jump
        assert prev < 1e-3
    # vectorised over nodes with per-node temperatures
    Tn = np.array([0.5, 0.9, 1.0, 1.1]) * Tc
    mn = np.array([0.5, 0.3, 0.1, 0.05]) ** 2
    f = mf.longitudinal_field(mn, Tn, mat)
    assert f.shape == (4,)
    np.testing.assert_allclose(f, [mf.longitudinal_field(a, b, mat) for a, b in zip(mn, Tn)],
                               rtol=1e-14)


@pytest.mark.parametrize("spin", [None, 0.5, 1.5])
def test_longitudinal_field_cubic_term_matches_mean_field_at_tc(spin):
    """At T = Tc the static LLB state in a field H, H + f(m²) m = 0, is b m³ = H; the
    mean-field m(H) at Tc must agree (this fixes ξ = 3/5 classical, c/a³ in general)."""
    mat = material(spin=spin)
    unit = KB * mat.Tc / (mat.mu_atom * MU0)     # A/m per unit of u
    for u in [1e-9, 1e-10]:
        m_mf = m_in_field(1.0, u, spin, branch=(0.0, 1.0))
        H = u * unit
        m_llb = mf.equilibrium_length_in_field(mat.Tc, mat, H)
        assert m_llb == approx(m_mf, rel=1e-4)


def test_equilibrium_length_in_field_below_tc():
    mat = material()
    T, H = 420.0, 1e4
    m0 = mf.equilibrium_length_in_field(T, mat, H)
    me, chi = mf.equilibrium_m(T, mat), mf.chi_parallel(T, mat)
    assert m0 - me == approx(chi * H, rel=1e-3)
    # and the mean-field m(H) itself (to second order in H)
    u = H * mat.mu_atom * MU0 / (KB * mat.Tc)
    m_mf = m_in_field(T / mat.Tc, u, None, branch=(0.5 * me, 1.0))
    assert m0 - me == approx(m_mf - me, rel=1e-3)


# ---- damping and linearised dynamics --------------------------------------------------
def test_llb_damping():
    mat = material(llb_lambda=0.05)
    a_par, a_perp = mf.llb_damping(np.array([0.0, 300.0, 600.0, 900.0]), mat)
    np.testing.assert_allclose(a_par, 2 * 0.05 * np.array([0, 0.5, 1, 1.5]) / 3, rtol=1e-15)
    np.testing.assert_allclose(a_perp, [0.05, 0.05 * (1 - 0.5 / 3), 2 * 0.05 / 3,
                                        2 * 0.05 * 1.5 / 3], rtol=1e-15)
    lo = mf.llb_damping(600.0 * (1 - 1e-12), mat)[1]
    assert lo == approx(a_perp[2], rel=1e-10)          # continuous at Tc


def _integrate_longitudinal(mat, T, m_start, t_end):
    def rhs(_, y):
        a_par = mf.llb_damping(T, mat)[0]
        return [GAMMA * a_par * mf.longitudinal_field(y[0] ** 2, T, mat) * y[0]]
    return solve_ivp(rhs, (0.0, t_end), [m_start], method="Radau", rtol=1e-11, atol=1e-16,
                     dense_output=True)


@pytest.mark.parametrize("spin", [None, 0.5])
@pytest.mark.parametrize("t", [0.3, 0.9, 1.5])
def test_longitudinal_relaxation_time_vs_integration(spin, t):
    """The 0D LLB d|m|/dt = γ α∥ f(|m|², T) |m| relaxes a small deviation with τ∥."""
    mat = material(spin=spin)
    T = t * mat.Tc
    tau = mf.longitudinal_relaxation_time(T, mat, GAMMA)
    me = mf.equilibrium_m(T, mat)
    delta0 = 1e-5 if t < 1 else 1e-6
    sol = _integrate_longitudinal(mat, T, me + delta0, 6 * tau)
    t1, t2 = 1 * tau, 5 * tau
    d1, d2 = sol.sol(t1)[0] - me, sol.sol(t2)[0] - me
    tau_num = (t2 - t1) / math.log(d1 / d2)
    assert tau_num == approx(tau, rel=1e-3)   # measured: < 4e-6
    # and the formula itself
    a_par = mf.llb_damping(T, mat)[0]
    assert tau == approx(mf.chi_parallel(T, mat) / (GAMMA * a_par), rel=1e-14)


def test_longitudinal_relaxation_time_limits():
    mat = material()
    assert mf.longitudinal_relaxation_time(mat.Tc, mat, GAMMA) == math.inf
    lim = mf.longitudinal_relaxation_time(0.0, mat, GAMMA)
    assert lim == approx(mf.longitudinal_relaxation_time(1e-4 * mat.Tc, mat, GAMMA),
                                rel=1e-3)
    with pytest.raises(ValueError, match="gamma"):
        mf.longitudinal_relaxation_time(300.0, mat, 1.76e11)


@pytest.mark.parametrize("t", [0.5, 0.9])
def test_transverse_precession_vs_integration(t):
    """Full 3D LLB macrospin (applied field along z plus longitudinal field), started
    tilted by 0.01 rad at its equilibrium length: frequency γH/2π, transverse amplitude
    decays with τ⊥ = m0/(γ α⊥ H)."""
    mat = material(llb_lambda=0.05)
    T = t * mat.Tc
    H = 2.0e5
    a_par, a_perp = mf.llb_damping(T, mat)
    freq, tau = mf.transverse_precession(T, mat, H, GAMMA)
    m0 = mf.equilibrium_length_in_field(T, mat, H)
    me = mf.equilibrium_m(T, mat)
    assert freq == approx(GAMMA * H / (2 * math.pi), rel=1e-14)
    assert tau == approx(m0 / (GAMMA * a_perp * H), rel=1e-14)
    assert m0 == approx(me, rel=1e-2)

    chi = mf.chi_parallel(T, mat)

    def rhs(_, m):
        m2 = m @ m
        Heff = np.array([0.0, 0.0, H]) + (1 - m2 / me ** 2) / (2 * chi) * m
        mxH = np.cross(m, Heff)
        return GAMMA * (-mxH + a_par * (m @ Heff) * m / m2 - a_perp * np.cross(m, mxH) / m2)

    th = 0.01
    y0 = m0 * np.array([math.sin(th), 0.0, math.cos(th)])
    t_end = 1.5 * tau
    sol = solve_ivp(rhs, (0, t_end), y0, method="Radau", rtol=1e-9, atol=1e-13,
                    dense_output=True, max_step=0.05 / freq)
    ts = np.linspace(0.2 * tau, t_end, 2001)
    Y = sol.sol(ts)
    amp = np.hypot(Y[0], Y[1])
    slope = np.polyfit(ts, np.log(amp), 1)[0]
    assert -1 / slope == approx(tau, rel=1e-3)      # measured: 1e-5
    phase = np.unwrap(np.arctan2(Y[1], Y[0]))
    omega = np.polyfit(ts, phase, 1)[0]
    assert omega / (2 * math.pi) == approx(freq, rel=1e-8)
    # the length stays at m0, not m_e: the applied field stretches it by χ∥ H
    assert np.hypot(amp[-1], Y[2][-1]) == approx(m0, rel=1e-7)
    assert abs(m0 - me - chi * H) < 1e-2 * chi * H


# ---- tabulated curves -------------------------------------------------------------------
def test_tabulated_equilibrium_reproduces_mean_field():
    mat = material(spin=0.5)
    Tgrid = np.concatenate([np.linspace(1.0, 590.0, 300), np.linspace(591, 599.9, 60),
                            np.linspace(600.5, 1200.0, 200)])
    table = mf.TabulatedEquilibrium.from_mean_field(mat, Tgrid)
    tab = material(spin=0.5, equilibrium=table)
    Tq = np.array([50.0, 250.0, 400.0, 550.0, 800.0])
    np.testing.assert_allclose(mf.equilibrium_m(Tq, tab), mf.equilibrium_m(Tq, mat),
                               rtol=2e-4)
    np.testing.assert_allclose(mf.chi_parallel(Tq[1:], tab), mf.chi_parallel(Tq[1:], mat),
                               rtol=2e-3)
    assert mf.equilibrium_m(700.0, tab) == 0.0
    np.testing.assert_allclose(mf.anisotropy_constant(Tq, tab), mf.anisotropy_constant(Tq, mat),
                               rtol=1e-3, atol=1e-6)


def test_tabulated_equilibrium_is_used():
    T = np.array([0.0, 100.0, 200.0, 300.0, 400.0, 450.0, 500.0])
    m = np.array([1.0, 0.95, 0.88, 0.77, 0.6, 0.45, 0.2])
    chi = np.array([1e-12, 1e-11, 3e-11, 8e-11, 2e-10, 5e-10, 2e-9])
    chi_perp = np.full_like(T, 4e-9)
    table = mf.TabulatedEquilibrium(T, m, chi, Tc=510.0, chi_perp=chi_perp)
    mat = material(Tc=510.0, equilibrium=table)
    assert mf.equilibrium_m(300.0, mat) == approx(0.77, rel=1e-12)
    assert mf.equilibrium_m(520.0, mat) == 0.0
    assert mf.chi_parallel(300.0, mat) == approx(8e-11, rel=1e-12)
    assert mf.chi_parallel(350.0, mat) > 8e-11
    assert mf.chi_perpendicular(300.0, mat) == approx(4e-9, rel=1e-12)
    assert mf.anisotropy_constant(300.0, mat) == approx(
        MU0 * mat.Ms * 0.77 ** 2 / (2 * 4e-9), rel=1e-12)
    assert mf.exchange_stiffness(300.0, mat) == approx(mat.A * 0.77 ** 2, rel=1e-12)
    assert mf.longitudinal_field(0.77 ** 2, 300.0, mat) == 0.0
    # callen-callen ignores the tabulated χ⊥
    mat.anisotropy_model = "callen-callen"
    assert mf.anisotropy_constant(300.0, mat) == approx(mat.Ku * 0.77 ** 3, rel=1e-12)
    with pytest.raises(ValueError, match="increasing"):
        mf.TabulatedEquilibrium([0.0, 2.0, 1.0], [1, 0.5, 0.6], [1e-9] * 3, Tc=3.0)
    with pytest.raises(ValueError, match="m_e"):
        mf.TabulatedEquilibrium([0.0, 1.0], [1.0, 1.5], [1e-9] * 2, Tc=3.0)
    with pytest.raises(ValueError, match="chi_par"):
        mf.TabulatedEquilibrium([0.0, 1.0], [1.0, 0.5], [1e-9, -1.0], Tc=3.0)


# ---- validation -------------------------------------------------------------------------
@pytest.mark.parametrize("name,value,match", [
    ("Tc", 0.0, "Tc"), ("Tc", -5.0, "Tc"), ("llb_lambda", 0.0, "llb_lambda"),
    ("llb_lambda", -0.1, "llb_lambda"), ("spin", 0.3, "spin"), ("spin", -0.5, "spin"),
    ("spin", 0, "spin"), ("mu_atom", 0.0, "mu_atom"), ("mu_atom", -1e-23, "mu_atom"),
    ("anisotropy_model", "cubic", "anisotropy_model"), ("equilibrium", "table", "equilibrium"),
    ("Ms", 0.0, "Ms"),
])
def test_validate_llb_material_errors(name, value, match):
    mat = material(**{name: value})
    with pytest.raises(ValueError, match=match):
        mf.validate_llb_material(mat)


def test_validate_accepts_good_materials_and_default_moment():
    for spin in [None, 0.5, 1, 1.5, 7 / 2]:
        mf.validate_llb_material(material(spin=spin))
    mat = material(mu_atom=None)
    mf.validate_llb_material(mat)
    ref = material(mu_atom=MU_B)
    assert mf.chi_parallel(300.0, mat) == approx(mf.chi_parallel(300.0, ref), rel=1e-12)


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf, [300.0, -0.1]])
def test_check_temperature(bad):
    with pytest.raises(ValueError, match="temperature"):
        mf.check_temperature(bad)
    with pytest.raises(ValueError, match="temperature"):
        mf.equilibrium_m(bad, material())
