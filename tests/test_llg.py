"""LLG dynamics and the time integrators against analytic macrospin results and the
energy identities of the lumped-mass discretisation (SI units throughout)."""
import numpy as np
import pytest

import femag
from femag.integrators import RelaxationError
from femag.material import GAMMA_DEFAULT as GAMMA


def macrospin(alpha, H, theta0=1.0, comm=None):
    """A 10 nm cube with exchange (uniform m stays uniform) in H ẑ (A/m), m tilted by theta0."""
    mesh = femag.geometries.box(10e-9, 10e-9, 10e-9, h=5e-9)
    sim = femag.Simulation(mesh, femag.Material(Ms=8e5, A=1.3e-11, alpha=alpha))
    sim.add(femag.Exchange() + femag.Zeeman(H=(0, 0, H)))
    sim.m = (np.sin(theta0), 0.0, np.cos(theta0))
    return sim


def precession_and_decay(result):
    """Fitted angular frequency (rad/s) of ⟨m⟩ about ẑ and decay time (s) of tan(θ/2)."""
    t = result.column("t")
    mx, my, mz = result.column("mx"), result.column("my"), result.column("mz")
    omega = np.polyfit(t, np.unwrap(np.arctan2(my, mx)), 1)[0]
    theta = np.arccos(mz / np.sqrt(mx ** 2 + my ** 2 + mz ** 2))
    rate = np.polyfit(t, np.log(np.tan(theta / 2)), 1)[0]
    return omega, -1.0 / rate


# the order-1 tangent-plane θ-scheme has an explicit Zeeman field: normalising m + k v
# shortens the precession cone by (ωk)²/2 per step, a spurious anti-damping of relative
# size ωk/(2α), so it needs α large and ωk small for 1% on the damping time. The order-2
# midpoint variant (the default) has no such term and meets 1% at α = 0.05, 100 steps/period.
CASES = [("rk45", 0.05, {}), ("rk23", 0.05, {}),
         ("tangent-plane", 0.05, {"dt_fraction": 0.01}),
         ("tangent-plane", 0.2, {"dt_fraction": 0.0005, "order": 1})]
IDS = ["rk45", "rk23", "tangent-plane", "tangent-plane-order1"]


@pytest.mark.parametrize("integrator,alpha,opts", CASES, ids=IDS)
def test_macrospin_frequency_and_damping_time(integrator, alpha, opts):
    H = 4e5
    sim = macrospin(alpha, H)
    period = 2 * np.pi / (GAMMA * H)
    tau = (1 + alpha ** 2) / (alpha * GAMMA * H)  # tan(θ/2) ∝ exp(−t/τ)
    options = {k: v for k, v in opts.items() if k != "dt_fraction"}
    if "dt_fraction" in opts:
        options["dt"] = opts["dt_fraction"] * period
    t_end = min(2.5 * tau, 8 * period)
    result = sim.run(t_end, save_every=period / 16, integrator=integrator, verbose=False, **options)
    omega, decay = precession_and_decay(result)
    # γH/(1+α²) is the exact macrospin frequency; γH/2π itself differs by α² ≤ 4%
    assert omega == pytest.approx(GAMMA * H / (1 + alpha ** 2), rel=5e-3)
    assert decay == pytest.approx(tau, rel=1e-2)
    assert sim.t == pytest.approx(t_end, rel=1e-12)
    assert result.rows[-1]["t"] == pytest.approx(t_end, rel=1e-12)


def nonuniform(alpha, A):
    """20×20×5 nm film, exchange + tilted uniaxial anisotropy + Zeeman, non-uniform m."""
    mesh = femag.geometries.box(20e-9, 20e-9, 5e-9, h=5e-9)
    mat = femag.Material(Ms=8e5, A=A, alpha=alpha, Ku=1e5, axis=(1, 0, 1))
    sim = femag.Simulation(mesh, mat)
    sim.add(femag.Exchange() + femag.UniaxialAnisotropy() + femag.Zeeman(H=(0, 0, 2e5)))
    sim.m = lambda x: np.array([0.5 + 0.5 * np.sin(x[0] / 5e-9), 0.5 * np.cos(x[1] / 4e-9) + 0 * x[0],
                                np.ones_like(x[0])])
    return sim


def test_energy_conserved_without_damping():
    """α = 0: each node is a nonlinear (anisotropy + Zeeman) oscillator, weakly coupled;
    rk45 at its default tolerance keeps E within 1e-5 (relative) over 50 periods."""
    sim = nonuniform(0.0, 1e-13)
    period = 2 * np.pi / (GAMMA * 2e5)
    result = sim.run(50 * period, save_every=period / 2, verbose=False)
    E = result.column("E_total")
    assert np.ptp(result.column("mx")) > 0.2  # the state really moves
    assert np.max(np.abs(E - E[0])) / abs(E[0]) < 1e-5


@pytest.mark.parametrize("integrator", ["rk45", "rk23", "tangent-plane"])
def test_damping_never_raises_energy(integrator):
    sim = nonuniform(0.1, 1.3e-11)
    period = 2 * np.pi / (GAMMA * 2e5)
    result = sim.run(2 * period, save_every=period / 8, integrator=integrator, verbose=False)
    E = result.column("E_total")
    assert E[-1] < E[0]
    assert np.all(np.diff(E) <= 1e-12 * abs(E[0]))


def test_tangent_plane_orders_converge_as_stated():
    """Error at t = 2 periods against rk45 at rtol 1e-10 (non-uniform film, α = 0.05):
    halving max_angle divides it by ≈ 4 with order=2 (measured 3.8) and by less than 2
    with order=1 (1.5); order 2 at 0.02 rad is also below order 1 at 0.01 rad."""
    period = 2 * np.pi / (GAMMA * 2e5)

    def gathered_m(sim):
        """All nodal m, ordered by node coordinates (each run partitions its own mesh)."""
        x = np.concatenate(sim.comm.allgather(sim.node_coordinates()[:sim.n_owned]))
        m = np.concatenate(sim.comm.allgather(sim.nodal(sim.m).copy()))
        key = np.round(x / 1e-15)
        return m[np.lexsort((key[:, 2], key[:, 1], key[:, 0]))]

    sim = nonuniform(0.05, 1.3e-11)
    sim.run(2 * period, integrator="rk45", rtol=1e-10, atol=1e-10, verbose=False)
    reference = gathered_m(sim)

    def error(order, max_angle):
        sim = nonuniform(0.05, 1.3e-11)
        sim.run(2 * period, integrator="tangent-plane", order=order, max_angle=max_angle,
                verbose=False)
        return float(np.max(np.abs(gathered_m(sim) - reference)))

    second = [error(2, 0.04), error(2, 0.02)]
    first = [error(1, 0.02), error(1, 0.01)]
    assert second[0] / second[1] > 3.0
    assert first[0] / first[1] < 2.0
    assert second[1] < first[1]


def test_time_dependent_field_sets_precession_phase():
    """α = 0 in H(t) = H0 (1 + ½ sin ωt) ẑ: m turns about ẑ by γ ∫ H dt."""
    H0, w = 4e5, 2 * np.pi * 5e9
    mesh = femag.geometries.box(10e-9, 10e-9, 10e-9, h=5e-9)
    sim = femag.Simulation(mesh, femag.Material(Ms=8e5, A=1.3e-11, alpha=0.0))
    sim.add(femag.Exchange() + femag.Zeeman(H=(0, 0, H0), time_function=lambda t: 1 + 0.5 * np.sin(w * t)))
    sim.m = (1.0, 0.0, 0.0)
    seen = []
    result = sim.run(2e-10, save_every=1e-11, verbose=False, callback=lambda s: seen.append(s.t))
    t = result.column("t")
    phase = np.unwrap(np.arctan2(result.column("my"), result.column("mx")))
    exact = GAMMA * H0 * (t + 0.5 * (1 - np.cos(w * t)) / w)
    assert np.max(np.abs(phase - exact)) < 1e-4
    assert seen == pytest.approx(list(t), rel=1e-12)  # one callback per saved step


def test_progress_line_and_counts(capsys, comm):
    sim = macrospin(0.1, 4e5)
    result = sim.run(2e-11, save_every=1e-11)
    out = capsys.readouterr().out
    if comm.rank == 0:
        assert "max|m x H|" in out and "dt =" in out and "E =" in out
    else:
        assert out == ""
    assert len(result.rows) == 3 and result.steps > 0 and result.evaluations >= result.steps


@pytest.mark.parametrize("integrator", ["rk23", "tangent-plane"])
def test_relax_reaches_torque_and_keeps_time(integrator):
    sim = nonuniform(0.1, 1.3e-11)
    sim.t = 1e-9
    options = {"order": 1, "theta": 1.0, "max_angle": 0.2} if integrator == "tangent-plane" else {}
    result = sim.relax(tol=10.0, alpha=0.5, integrator=integrator, verbose=False, **options)
    assert sim.torque() < 12.0 and result.torque < 12.0
    assert sim.t == 1e-9
    with pytest.raises(RelaxationError, match="did not converge"):
        nonuniform(0.1, 1.3e-11).relax(tol=1e-3, max_steps=5, verbose=False)


def test_bad_input():
    sim = macrospin(0.1, 4e5)
    with pytest.raises(ValueError, match="integrator must be one of"):
        sim.run(1e-11, integrator="euler", verbose=False)
    with pytest.raises(ValueError, match="t_end"):
        sim.run(0.0, verbose=False)
    with pytest.raises(ValueError, match="theta must be in"):
        sim.run(1e-11, integrator="tangent-plane", order=1, theta=0.3, verbose=False)
    with pytest.raises(ValueError, match="theta belongs to the order-1"):
        sim.run(1e-11, integrator="tangent-plane", theta=1.0, verbose=False)
    with pytest.raises(ValueError, match="order must be 1"):
        sim.run(1e-11, integrator="tangent-plane", order=3, verbose=False)
    with pytest.raises(ValueError, match="rtol"):
        sim.run(1e-11, rtol=-1, verbose=False)
    with pytest.raises(ValueError, match="relax needs α > 0"):
        femag.Simulation(femag.geometries.box(10e-9, 10e-9, 10e-9, h=5e-9),
                         femag.Material(Ms=8e5, alpha=0.0)).relax(verbose=False)


# --- spin-transfer torques ------------------------------------------------------------------
def wall_strip(alpha, L=200e-9):
    """A 200 × 4 × 4 nm strip (easy axis x, no demag) holding a relaxed transverse wall at x = 0."""
    mesh = femag.geometries.box(L, 4e-9, 4e-9, h=2e-9)
    sim = femag.Simulation(mesh, femag.Material(Ms=8e5, A=1.3e-11, alpha=alpha, Ku=2e5, axis=(1, 0, 0)))
    sim.add(femag.Exchange() + femag.UniaxialAnisotropy())
    width = np.sqrt(1.3e-11 / 2e5)
    sim.m = lambda x: np.array([-np.tanh(x[0] / width), 1 / np.cosh(x[0] / width), 0 * x[0]])
    sim.minimize(tol=1.0)
    return sim


@pytest.mark.parametrize("alpha,beta", [(0.1, 0.1), (0.5, 0.0)])
def test_zhang_li_wall_velocity(alpha, beta):
    """β = α: the wall moves rigidly with u; a wall free to precess (no hard axis here)
    moves with (1 + αβ)/(1 + α²) u (Thiaville et al. 2005)."""
    from femag.stt import ZhangLi
    L = 200e-9
    sim = wall_strip(alpha, L)
    torque = ZhangLi(J=(5.5e12, 0, 0), P=0.5, beta=beta)
    u = torque.u(8e5)[0]
    assert u == pytest.approx(-199.0, rel=1e-3)  # m/s, against J (electron flow)
    result = sim.run(5e-11, save_every=5e-12, torques=[torque], verbose=False)
    # m_x = −tanh((x − x0)/Δ) ⇒ ⟨m_x⟩ = 2 x0 / L while the wall is far from the ends
    velocity = np.polyfit(result.column("t"), L * result.column("mx") / 2, 1)[0]
    assert velocity == pytest.approx(u * (1 + alpha * beta) / (1 + alpha ** 2), rel=0.05)


def test_slonczewski_macrospin_switching():
    """No field, polariser ẑ, Λ = 1: m_z = tanh(γ β_J ε t/(1+α²) + atanh m_z0) and m
    turns about ẑ at α γ β_J ε/(1+α²)."""
    from femag.stt import E_CHARGE, HBAR, Slonczewski
    alpha, J, d, P = 0.1, 5e12, 5e-9, 0.4
    mesh = femag.geometries.box(10e-9, 10e-9, d, h=5e-9)
    sim = femag.Simulation(mesh, femag.Material(Ms=8e5, A=1.3e-11, alpha=alpha))
    sim.add(femag.Exchange())
    sim.m = (1.0, 0.0, -0.2)
    mz0 = sim.m_average()[2]
    torque = Slonczewski(J=J, p=(0, 0, 1), thickness=d, P=P)
    rate = GAMMA * HBAR * J / (femag.MU0 * E_CHARGE * 8e5 * d) * (P / 2) / (1 + alpha ** 2)
    result = sim.run(3 / rate, save_every=0.1 / rate, torques=[torque], verbose=False)
    t = result.column("t")
    mx, my, mz = result.column("mx"), result.column("my"), result.column("mz")
    assert np.max(np.abs(mz - np.tanh(rate * t + np.arctanh(mz0)))) < 1e-4
    phase = np.polyfit(t, np.unwrap(np.arctan2(my, mx)), 1)[0]
    assert abs(phase) == pytest.approx(alpha * rate, rel=1e-3)
    # J < 0 pushes m away from the polariser
    sim.t = 0.0
    sim.m = (1.0, 0.0, 0.2)
    back = sim.run(1 / rate, torques=[Slonczewski(J=-J, p=(0, 0, 1), thickness=d, P=P)], verbose=False)
    assert back.rows[-1]["mz"] < 0.2 - 0.5


def test_stt_bad_input():
    from femag.stt import Slonczewski, ZhangLi
    with pytest.raises(ValueError, match="3-vector"):
        ZhangLi(J=1e12)
    with pytest.raises(ValueError, match="P must be"):
        ZhangLi(J=(1e12, 0, 0), P=2)
    with pytest.raises(ValueError, match="implausibly large"):
        Slonczewski(J=1e11, p=(0, 0, 1), thickness=3.0)
    with pytest.raises(ValueError, match="non-zero"):
        Slonczewski(J=1e11, p=(0, 0, 0), thickness=3e-9)


def test_tangent_plane_solver_on_a_layered_film(comm):
    """A 100 × 50 × 3 nm permalloy film with 6 element layers (0.5 nm: the exchange
    couples the layers 100× more stiffly than in-plane neighbours) at 0.5 ps steps:
    the default ILU(1)/RCM preconditioner (in ASM on 2 ranks) needs ≈ 6 GMRES iterations
    per solve (measured 5.6 on 1 and 2 ranks); PETSc's defaults, natural-order ILU(0)
    (block Jacobi on 2 ranks), need 30.5 (60); a user's
    ``femag_tps_`` option overrides the defaults, and the global options database is
    left as it was."""
    from petsc4py import PETSc
    from femag.integrators import TangentPlane, make_equation

    def iterations(**petsc_options):
        mesh = femag.geometries.box(100e-9, 50e-9, 3e-9, h=5e-9, layers=6)
        sim = femag.Simulation(mesh, femag.Material(Ms=8e5, A=1.3e-11, alpha=0.02))
        sim.add(femag.Exchange() + femag.Demag() + femag.Zeeman(H=(-2e4, 3e3, 0)))
        sim.m = lambda x: np.array([np.cos(x[0] / 30e-9), np.sin(x[0] / 30e-9),
                                    0.1 + 0 * x[0]])
        opts = PETSc.Options()
        for key, value in petsc_options.items():
            opts["femag_tps_" + key] = value
        try:
            stepper = TangentPlane(sim, make_equation(sim), dt=5e-13)
        finally:
            for key in petsc_options:
                opts.delValue("femag_tps_" + key)
        assert stepper._ksp.getTolerances()[0] == pytest.approx(
            float(petsc_options.get("ksp_rtol", 1e-8)))
        stepper.advance(4 * 5e-13)
        assert not any(k.startswith("femag_tps_") for k in opts.getAll())
        return stepper.linear_iterations / (2 * stepper.steps)

    ours = iterations()
    assert ours < 12
    plain = iterations(pc_type="bjacobi" if comm.size > 1 else "ilu",
                       pc_factor_levels=0, sub_pc_factor_levels=0,
                       pc_factor_mat_ordering_type="natural",
                       sub_pc_factor_mat_ordering_type="natural", ksp_rtol=1e-8)
    assert plain > 3 * ours
