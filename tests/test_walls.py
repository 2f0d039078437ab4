"""Domain-wall tools (femag.states, femag.walls) and wall physics without demag.

Analysis: constructed tanh walls (exact at the P1 nodes) are measured back (width and
position within 2 %), Bloch / Néel / asymmetric / transverse / vortex walls are
classified, the exact 1D wall profile gives σ = 4 sqrt(A K).
DMI: a perpendicular bar (easy axis z, effective uniaxial K_eff = Ku given directly, no
demag) with interfacial DMI relaxes to a Néel wall whose rotation sense is set by the
sign of D, with σ = 4 sqrt(A K_eff) − π|D| (3 %).
Bars are 1D-like (2 × 2 nm cross-section, h = 1 nm) to keep the tests fast.
"""
import math

import numpy as np
import pytest
from mpi4py import MPI

import femag
from femag import states, walls

A, K, MS = 1.5e-11, 8e5, 6e5
DELTA = math.sqrt(A / K)  # 4.33 nm
SIGMA0 = 4 * math.sqrt(A * K)  # 1.39e-2 J/m²
L, W = 60e-9, 2e-9


def bar(comm, along="x"):
    if along == "x":
        return femag.geometries.box(L, W, W, h=1e-9, comm=comm)
    return femag.geometries.box(W, L, W, h=1e-9, comm=comm)


@pytest.fixture(scope="module")
def bar_x(comm):
    return bar(comm)


def wall_sim(mesh, easy=(0, 1, 0), D=0.0, dmi=False):
    sim = femag.Simulation(mesh, femag.Material(Ms=MS, A=A, Ku=K, axis=easy, D_int=D))
    sim.add(femag.Exchange(), femag.UniaxialAnisotropy())
    if dmi:
        sim.add(femag.InterfacialDMI())
    return sim


# --- analysis of constructed states ------------------------------------------------
@pytest.mark.parametrize("along", ["x", "y"])
def test_tanh_wall_measured_back(comm, along):
    mesh = bar(comm, along)
    normal = (1, 0, 0) if along == "x" else (0, 1, 0)
    easy = (0, 0, 1)
    sim = wall_sim(mesh, easy=easy)
    width, position = 0.8 * DELTA, 6.3e-9
    sim.m = states.bloch_wall(normal=normal, easy_axis=easy, width=width, position=position)
    info = walls.analyze(sim, normal=normal)
    assert info.width == pytest.approx(width, rel=0.02)
    assert abs(info.position - position) < 0.02 * width
    assert info.kind == "bloch"
    assert np.allclose(info.domain_axis, easy, atol=1e-2)  # ends not quite saturated
    assert info.area == pytest.approx(W * W, rel=1e-6)
    assert info.lilley_width == pytest.approx(math.pi * info.width)


def test_bloch_and_neel_classified(bar_x):
    sim = wall_sim(bar_x)
    sim.m = states.bloch_wall(width=DELTA, position=-5e-9)
    bloch = walls.analyze(sim)
    sim.m = states.neel_wall(width=DELTA, position=5e-9, chirality=-1)
    neel = walls.analyze(sim)
    assert (bloch.kind, neel.kind) == ("bloch", "neel")
    assert bloch.neel_angle < 0.01 and neel.neel_angle > math.pi / 2 - 0.01
    assert bloch.coherence > 0.999 and neel.coherence > 0.999
    # rotation axis: along the normal for Bloch, ⊥ normal for Néel (u × c = y × −x = z)
    assert np.allclose(bloch.rotation_axis, (1, 0, 0), atol=1e-6)
    assert np.allclose(neel.rotation_axis, (0, 0, 1), atol=1e-6)
    assert bloch.position == pytest.approx(-5e-9, abs=0.02 * DELTA)


def test_asymmetric_and_head_to_head_classified(comm):
    """A wall whose rotation plane turns through the thickness (Néel caps of opposite sign
    at the two surfaces, Bloch in the middle, as LaBonte's wall) is "asymmetric"."""
    t = 10e-9
    mesh = femag.geometries.box(40e-9, 2e-9, t, h=2e-9, comm=comm)
    sim = wall_sim(mesh)

    def caps(x):  # centre direction from −x (bottom) through +z to +x (top)
        chi = math.pi / 2 * x[2] / (t / 2)
        return np.array([np.sin(chi), 0 * chi, np.cos(chi)])

    sim.m = states.tanh_wall(m_left=(0, 1, 0), m_center=caps, width=DELTA)
    info = walls.analyze(sim)
    assert info.kind == "asymmetric"
    assert info.coherence < 0.75  # 2/π for a uniform turn through 180°
    sim.m = states.transverse_wall(axis=(1, 0, 0), transverse=(0, 1, 0), width=DELTA)
    info = walls.analyze(sim)
    assert info.kind == "transverse" and info.coherence > 0.999
    sim.m = states.tube_vortex_wall(axis=(1, 0, 0), width=DELTA)
    assert walls.analyze(sim).kind == "vortex"


def test_exact_wall_energy(bar_x):
    """The exact 1D profile Δ = sqrt(A/K) has σ = 4 sqrt(A K), half exchange, half anisotropy."""
    sim = wall_sim(bar_x)
    sim.m = states.neel_wall(width=DELTA)
    info = walls.analyze(sim)
    assert info.energy_per_area == pytest.approx(SIGMA0, rel=0.01)
    assert info.uniform_energy == pytest.approx(0.0, abs=1e-6 * info.energy)
    e = sim.energies()
    assert e["exchange"] == pytest.approx(e["anisotropy"], rel=0.02)
    # width aΔ: exchange 2 sqrt(AK)/a, anisotropy 2 sqrt(AK) a
    a = 0.5
    sim.m = states.neel_wall(width=a * DELTA)
    narrow = walls.analyze(sim).energy_per_area
    assert narrow == pytest.approx(SIGMA0 / 2 * (1 / a + a), rel=0.02)


def test_analysis_same_on_one_and_all_ranks(bar_x):
    results = []
    for mesh in (bar_x, bar(MPI.COMM_SELF)):
        sim = wall_sim(mesh)
        sim.m = states.bloch_wall(width=DELTA, position=3e-9)
        results.append(walls.analyze(sim))
    for key in ("position", "width", "energy_per_area", "coherence", "area"):
        assert results[0][key] == pytest.approx(results[1][key], rel=1e-9, abs=1e-15)
    every = MPI.COMM_WORLD.allgather(results[0].width)
    assert max(every) == min(every)


def test_profile_is_cross_section_average(bar_x):
    sim = wall_sim(bar_x)
    sim.m = states.bloch_wall(width=DELTA)
    s, mbar = walls.profile(sim)
    assert np.allclose(mbar[:, 1], -np.tanh(s / DELTA), atol=0.02)
    assert np.all(np.abs(mbar[:, 0]) < 1e-12)


def test_bad_input(bar_x):
    sim = wall_sim(bar_x)
    sim.m = (0, 1, 0)
    with pytest.raises(ValueError, match="no 180° wall"):
        walls.analyze(sim)
    with pytest.raises(ValueError, match="normal"):
        walls.analyze(sim, normal=(0, 0, 0))
    with pytest.raises(ValueError, match="width"):
        states.bloch_wall(width=5)  # 5 m: a unit slip
    with pytest.raises(ValueError, match="parallel"):
        states.bloch_wall(normal=(1, 0, 0), easy_axis=(1, 0, 0))
    with pytest.raises(ValueError, match="chirality"):
        states.neel_wall(chirality=2)


def test_states_are_unit_fields():
    rng = np.random.default_rng(1)
    x = rng.uniform(-50e-9, 50e-9, (3, 500))
    for f in (states.bloch_wall(), states.neel_wall(), states.transverse_wall(),
              states.tube_vortex_wall(), states.vortex(),
              states.onion(), states.strip_vortex_wall(), states.uniform((1, 1, 0))):
        m = f(x)
        assert m.shape == (3, 500) and np.all(np.isfinite(m))
        assert np.all(np.linalg.norm(m, axis=0) > 0.3)
    # vortex: azimuthal with circulation +1 around +z, core along +z
    m = states.vortex(core_radius=2e-9)(np.array([[40e-9, 0, 0], [0, 0, 0]]).T)
    assert np.allclose(m[:, 0], (0, 1, 0), atol=1e-6) and np.allclose(m[:, 1], (0, 0, 1))
    # onion along +x: +x at the top and bottom of the ring, radial (+x) in both walls
    m = states.onion(wall_width=2e-9)(np.array([[0, 40e-9, 0], [0, -40e-9, 0],
                                                [40e-9, 0, 0], [-40e-9, 0, 0]]).T)
    assert np.allclose(m.T, [(1, 0, 0)] * 4, atol=1e-6)


# --- interfacial DMI: Néel wall, chirality, σ = 4 sqrt(A K) − π|D| -------------------
D_DMI = 1.0e-3  # J/m², 0.23 σ0/π: D_c = 4 sqrt(A K)/π = 4.4e-3 J/m²


def test_dmi_chirality_energy(bar_x):
    """E(Néel, c = +x) − E(Néel, c = −x) = 2πD·area for an up-down wall along x:
    w = D (m_z ∂x m_x − m_x ∂x m_z) = D θ' with θ the angle from z towards x."""
    sim = wall_sim(bar_x, easy=(0, 0, 1), D=D_DMI, dmi=True)
    e = []
    for chirality in (1, -1):
        sim.m = states.neel_wall(easy_axis=(0, 0, 1), width=DELTA, chirality=chirality)
        e.append(sim.energies()["dmi_interfacial"])
    assert e[0] - e[1] == pytest.approx(2 * math.pi * D_DMI * W * W, rel=0.02)


@pytest.mark.parametrize("D", [D_DMI, -D_DMI])
def test_dmi_wall_relaxes_to_neel(bar_x, D):
    uniform = wall_sim(bar_x, easy=(0, 0, 1), D=D, dmi=True)
    uniform.m = (0, 0, 1)
    uniform.minimize(tol=1.0)  # the relaxed domains tilt at the y edges (DMI boundary)
    sim = wall_sim(bar_x, easy=(0, 0, 1), D=D, dmi=True)
    sim.m = states.bloch_wall(easy_axis=(0, 0, 1), width=DELTA)  # DMI picks the Néel sense
    sim.minimize(tol=10.0)
    info = walls.analyze(sim, uniform_energy=uniform.energy())
    assert info.kind == "neel" and info.neel_angle > math.pi / 2 - 0.05
    # ω̂ = m × m' / |..| = θ' ŷ: D > 0 favours θ' < 0
    assert info.rotation_axis[1] == pytest.approx(-math.copysign(1.0, D), abs=1e-3)
    # 1.5 % above the 1D value here: the narrow bar's edge tilt (D²/4A per volume) is
    # lost inside the wall
    assert info.energy_per_area == pytest.approx(SIGMA0 - math.pi * abs(D), rel=0.03)


# The spiral threshold: σ changes sign at D_c' = sqrt(A K/(π²/16 − 1/4)) = 1.297 D_c in
# this narrow bar (the edge tilt adds D²/(4A) to K: σ' = 4 sqrt(A K') − π|D|), not at the
# 1D D_c. At 1.15 D_c the 1D formula gives σ = −2.08 mJ/m² but σ' = +1.24 mJ/m²; at
# 1.45 D_c both are negative (σ' = −1.23 mJ/m²). demos/dmi_wall.py (120 nm bar) measured
# σ − σ' = +0.07 … +0.33 mJ/m² over 1.0 … 1.8 D_c.
D_CRIT = SIGMA0 / math.pi


def narrow_sigma(D):
    return 4 * math.sqrt(A * (K + D * D / (4 * A))) - math.pi * abs(D)


@pytest.mark.parametrize("ratio", [1.15, 1.45])
def test_dmi_wall_energy_changes_sign_at_narrow_threshold(bar_x, ratio):
    D = ratio * D_CRIT
    uniform = wall_sim(bar_x, easy=(0, 0, 1), D=D, dmi=True)
    uniform.m = (0, 0, 1)
    uniform.minimize(tol=10.0, max_iterations=50000)  # σ as at 1 A/m to 1e-7 (measured)
    sim = wall_sim(bar_x, easy=(0, 0, 1), D=D, dmi=True)
    sim.m = states.neel_wall(easy_axis=(0, 0, 1), width=DELTA, chirality=-1)
    sim.minimize(tol=10.0, max_iterations=50000)
    _, mbar = walls.profile(sim)
    assert np.sum(np.sign(mbar[1:, 2]) * np.sign(mbar[:-1, 2]) < 0) == 1  # still one wall
    sigma = walls.analyze(sim, uniform_energy=uniform.energy()).energy_per_area
    expected = narrow_sigma(D)
    assert math.copysign(1, sigma) == math.copysign(1, expected)  # + below D_c', − above
    assert sigma == pytest.approx(expected, abs=0.5e-3)  # J/m²


# --- field-driven motion: Walker's 1D solution -------------------------------------------
# Bar 160 × 2 × 2 nm (h = 2 nm, Δ0 = 7.1 nm), easy axis z (K), hard axis x (K_d, a
# UniaxialAnisotropy with Ku = −K_d standing in for the demag of the wall's Néel part),
# field H along z. Steady motion (Schryer & Walker, J. Appl. Phys. 45, 5406 (1974)):
# sin 2ψ = H/H_W, v = γ Δ(ψ) H/α, Δ(ψ) = sqrt(A/(K + K_d sin²ψ)), H_W = α K_d/(μ0 Ms).
# Tangent-plane steps of 0.2 ps: 1.2 % below the analytic v (0.6 % with rk45, 5x slower).
WK, WKD, WALPHA = 3e5, 1.5e5, 1.0
WDELTA = math.sqrt(A / WK)
H_WALKER = WALPHA * WKD / (femag.MU0 * MS)


@pytest.fixture(scope="module")
def walker_bar(comm):
    return femag.geometries.box(160e-9, 2e-9, 2e-9, h=2e-9, comm=comm)


def walker_run(mesh, ratio, t_end=0.3e-9):
    """Wall positions (m) and tilts ψ (rad) every 50 ps under H = ratio · H_W."""
    sim = femag.Simulation(mesh, femag.Material(Ms=MS, A=A, Ku=WK, axis=(0, 0, 1), alpha=WALPHA))
    hard = femag.UniaxialAnisotropy(Ku=-WKD, axis=(1, 0, 0))
    hard.name = "hard_axis"
    sim.add(femag.Exchange(), femag.UniaxialAnisotropy(), hard,
            femag.Zeeman(H=(0, 0, ratio * H_WALKER)))
    # Bloch wall with centre −y (n × u = x × z), the +z domain on the left: H along +z
    # pushes the wall towards +x
    sim.m = states.bloch_wall(easy_axis=(0, 0, 1), width=WDELTA, position=-65e-9)
    positions = []
    result = sim.run(t_end, save_every=t_end / 6, integrator="tangent-plane", dt_max=2e-13,
                     verbose=False, callback=lambda s: positions.append(walls.position(s)[0]))
    tilt = np.arctan2(result.column("mx"), -result.column("my"))  # ψ from the Bloch direction
    return result.column("t"), np.array(positions), tilt


def walker_velocity(ratio):
    psi = 0.5 * math.asin(ratio)
    return femag.GAMMA_DEFAULT * math.sqrt(A / (WK + WKD * math.sin(psi) ** 2)) \
        * ratio * H_WALKER / WALPHA


@pytest.mark.parametrize("ratio", [0.5, 0.9])
def test_walker_steady_velocity(walker_bar, ratio):
    t, x, tilt = walker_run(walker_bar, ratio)
    v = (x[-1] - x[-3]) / (t[-1] - t[-3])  # after the 0.2 ns transient
    assert v == pytest.approx(walker_velocity(ratio), rel=0.05)
    assert abs(tilt[-1]) == pytest.approx(0.5 * math.asin(ratio), abs=0.03)
    assert abs(tilt[-1] - tilt[-2]) < 0.01  # steady: the tilt has stopped turning


def test_walker_breakdown(walker_bar):
    """Above H_W (1.1 H_W) the tilt passes 45°, which no steady state reaches (sin 2ψ ≤ 1);
    with the 0.9 H_W case above this puts the numerical breakdown field within 10 %."""
    _, _, tilt = walker_run(walker_bar, 1.1)
    assert np.max(np.abs(tilt)) > math.pi / 4 + 0.2


def test_local_energy_per_area(bar_x):
    """σ from local densities (domain density from the ends) equals (E − E_uniform)/area."""
    sim = wall_sim(bar_x)
    sim.add(femag.Zeeman(H=(0, 0, 0)))  # a field term through the H-based density
    sim.m = states.bloch_wall(width=DELTA)
    sigma = walls.local_energy_per_area(sim)
    assert sigma == pytest.approx(walls.analyze(sim).energy_per_area, rel=0.002)
    central = walls.local_energy_per_area(sim, mask=lambda x: np.abs(x[:, 1]) < 0.6e-9)
    assert central == pytest.approx(SIGMA0, rel=0.01)
    masked = walls.analyze(sim, mask=lambda x: np.abs(x[:, 2]) < 0.6e-9)
    assert masked.width == pytest.approx(DELTA, rel=0.02)
