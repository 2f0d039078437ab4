"""Measured accuracy of the LLG integrators on the analytic cases of tests/test_llg.py.

    .venv/bin/python benchmarks/llg_accuracy.py

Prints, per integrator, the relative error of the macrospin precession frequency
(against γH/(1+α²)) and of the damping time (1+α²)/(αγH), the relative energy drift
at α = 0 over 50 periods (rk45), and the Zhang–Li wall velocity error. The tests assert
tolerances; this prints the numbers that go into docs/llg.md.
"""
import importlib.util
import os
import time

import numpy as np

from femag.material import GAMMA_DEFAULT as GAMMA

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("test_llg", os.path.join(HERE, "..", "tests", "test_llg.py"))
T = importlib.util.module_from_spec(spec)
spec.loader.exec_module(T)


def macrospin_errors():
    H = 4e5
    for (integrator, alpha, opts), label in zip(T.CASES, T.IDS):
        sim = T.macrospin(alpha, H)
        period = 2 * np.pi / (GAMMA * H)
        tau = (1 + alpha ** 2) / (alpha * GAMMA * H)
        options = {k: v for k, v in opts.items() if k != "dt_fraction"}
        if "dt_fraction" in opts:
            options["dt"] = opts["dt_fraction"] * period
        start = time.perf_counter()
        result = sim.run(min(2.5 * tau, 8 * period), save_every=period / 16,
                         integrator=integrator, verbose=False, **options)
        omega, decay = T.precession_and_decay(result)
        print(f"macrospin {label:20s} α = {alpha}: frequency {omega / (GAMMA * H / (1 + alpha ** 2)) - 1:+.2e}, "
              f"damping time {decay / tau - 1:+.2e}, {result.steps} steps, "
              f"{time.perf_counter() - start:.1f} s")


def energy_drift():
    sim = T.nonuniform(0.0, 1e-13)
    period = 2 * np.pi / (GAMMA * 2e5)
    result = sim.run(50 * period, save_every=period / 2, verbose=False)
    E = result.column("E_total")
    print(f"α = 0, rk45 default tolerance, 50 periods: max |E − E0|/|E0| = "
          f"{np.max(np.abs(E - E[0])) / abs(E[0]):.2e} ({result.steps} steps)")
    for integrator, opts in (("rk45", {}), ("rk23", {}), ("tangent-plane", {}),
                             ("tangent-plane", {"order": 1})):
        sim = T.nonuniform(0.1, 1.3e-11)
        result = sim.run(2 * period, save_every=period / 8, integrator=integrator, verbose=False,
                         **opts)
        integrator += " order 1" if opts else ""
        E = result.column("E_total")
        print(f"α = 0.1, {integrator}: largest energy increase between saves "
              f"{max(np.max(np.diff(E)), 0.0) / abs(E[0]):.1e} (relative), E drops by "
              f"{(E[0] - E[-1]) / abs(E[0]):.3f}")


def zhang_li():
    from femag.stt import ZhangLi
    for alpha, beta in ((0.1, 0.1), (0.5, 0.0)):
        sim = T.wall_strip(alpha)
        torque = ZhangLi(J=(5.5e12, 0, 0), P=0.5, beta=beta)
        u = torque.u(8e5)[0]
        result = sim.run(5e-11, save_every=5e-12, torques=[torque], verbose=False)
        v = np.polyfit(result.column("t"), 200e-9 * result.column("mx") / 2, 1)[0]
        exact = u * (1 + alpha * beta) / (1 + alpha ** 2)
        print(f"Zhang–Li α = {alpha}, β = {beta}: u = {u:.1f} m/s, wall velocity {v:.2f} m/s, "
              f"analytic {exact:.2f} m/s ({v / exact - 1:+.2%})")


if __name__ == "__main__":
    macrospin_errors()
    energy_drift()
    zhang_li()
