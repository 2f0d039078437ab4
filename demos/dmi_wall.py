"""Walls with interfacial DMI in a perpendicular film strip: chirality, σ(D), spirals.

Model: a 1D-like strip 120 × 2 × 2 nm along x (h = 1 nm), easy axis z, with the thin-film
shape anisotropy folded into an effective uniaxial term (no demag term):
K_eff = Ku − μ0 Ms²/2 is given directly as UniaxialAnisotropy(Ku=K_eff) — Ms = 6e5 A/m,
A = 1.5e-11 J/m, K_eff = 8e5 J/m³ (e.g. Ku = 1.03e6 J/m³). Analytic (Thiaville et al.,
EPL 100, 57002 (2012); Rohart & Thiaville, PRB 88, 184422 (2013)):

    σ(D) = 4 sqrt(A K_eff) − π|D|,   D_c = 4 sqrt(A K_eff)/π,

the wall is Néel with a rotation sense fixed by the sign of D, and above D_c the
spiral (cycloid) has lower energy than the uniform state. In a strip much narrower than
Δ the DMI edge tilt adds D²/(4A) to the anisotropy (docs/walls.md): the column
sigma_narrow_J_m2 is 4 sqrt(A K') − π|D| with K' = K_eff + D²/(4A), and the spiral onset
moves to D_c' = sqrt(A K_eff/(π²/16 − 1/4)) = 1.30 D_c.

Steps: (1) for D/D_c = 0 … 0.9 relax a wall started as Bloch and measure kind,
rotation axis and σ against a relaxed uniform state; (2) for D/D_c = 0.8 … 1.8 relax
the uniform state, an isolated Néel wall and a cycloid with the predicted equilibrium
number of turns (`spiral_period`; 2 turns where no spiral is predicted): σ of the
isolated wall changes sign at D_c' (not D_c) in this bar, and above it the relaxed
cycloid lies below the uniform state. Results: out/dmi_wall/walls.csv, threshold.csv,
dmi_spiral.png.

    mpirun -n 2 python demos/dmi_wall.py
"""
from __future__ import annotations

import csv
import math
import os

import numpy as np
from mpi4py import MPI

import femag
from femag import states, walls

A, K_EFF, MS = 1.5e-11, 8e5, 6e5
SIGMA0 = 4 * math.sqrt(A * K_EFF)
D_C = SIGMA0 / math.pi
L, W = 120e-9, 2e-9


def simulation(mesh, D):
    sim = femag.Simulation(mesh, femag.Material(Ms=MS, A=A, Ku=K_EFF, axis=(0, 0, 1), D_int=D))
    sim.add(femag.Exchange(), femag.UniaxialAnisotropy(), femag.InterfacialDMI())
    return sim


def relaxed_uniform_energy(mesh, D):
    sim = simulation(mesh, D)
    sim.m = (0, 0, 1)
    sim.minimize(tol=1.0)
    return sim.energy()


def wall_row(mesh, ratio):
    D = ratio * D_C
    sim = simulation(mesh, D)
    sim.m = states.bloch_wall(easy_axis=(0, 0, 1), width=math.sqrt(A / K_EFF))
    sim.minimize(tol=1.0, max_iterations=50000)
    info = walls.analyze(sim, uniform_energy=relaxed_uniform_energy(mesh, D))
    expected = SIGMA0 - math.pi * abs(D)
    narrow = 4 * math.sqrt(A * (K_EFF + D * D / (4 * A))) - math.pi * abs(D)
    return {"D_over_Dc": ratio, "D_J_m2": D, "kind": info.kind,
            "rotation_axis_y": float(info.rotation_axis[1]),
            "sigma_J_m2": info.energy_per_area, "sigma_analytic_J_m2": expected,
            "rel_error": info.energy_per_area / expected - 1, "sigma_narrow_J_m2": narrow,
            "rel_error_narrow": info.energy_per_area / narrow - 1, "width_nm": info.width * 1e9}


# --- the spiral transition ---------------------------------------------------------------
D_C_NARROW = math.sqrt(A * K_EFF / (math.pi ** 2 / 16 - 0.25))  # 1.297 D_c (J/m²)


def sigma_narrow(D):
    """σ' (J/m²) of the narrow bar's 1D model: K' = K_eff + D²/(4A)."""
    return 4 * math.sqrt(A * (K_EFF + D * D / (4 * A))) - math.pi * abs(D)


def spiral_period(D, narrow=True):
    """Equilibrium period λ (m) of the 1D chiral soliton lattice (cycloid) at |D| above its
    threshold, None below. With θ the angle from z, A θ'² = K(sin²θ + 1/κ² − 1) has the
    period λ = 4 κ K(κ) sqrt(A/K); minimising the energy per length over κ gives
    E(κ)/κ = π|D|/(4 sqrt(A K)) (K, E: complete elliptic integrals of modulus κ;
    Dzyaloshinskii, Sov. Phys. JETP 20, 665 (1965)). K = K' in the narrow bar."""
    from scipy.optimize import brentq
    from scipy.special import ellipe, ellipk
    K = K_EFF + (D * D / (4 * A) if narrow else 0.0)
    r = math.pi * abs(D) / (4 * math.sqrt(A * K))
    if r <= 1:
        return None
    kappa = brentq(lambda k: ellipe(k * k) / k - r, 1e-9, 1 - 1e-15, xtol=1e-15)
    return 4 * kappa * ellipk(kappa * kappa) * math.sqrt(A / K)


def count_walls(sim):
    """Number of 180° walls along x: sign changes of the cross-section averaged m_z."""
    _, mbar = walls.profile(sim)
    mz = mbar[:, 2]
    return int(np.sum(np.sign(mz[1:]) * np.sign(mz[:-1]) < 0))


def relaxed(mesh, D, m0):
    sim = simulation(mesh, D)
    sim.m = m0
    sim.minimize(tol=1.0, max_iterations=50000)
    return sim


def cycloid(D, turns):
    k = -math.copysign(2 * math.pi * turns / L, D)  # D > 0 favours k < 0 (femag.dmi)
    return lambda x: np.array([np.sin(k * x[0]), 0 * x[0], np.cos(k * x[0])])


def threshold_row(mesh, ratio):
    """At D = ratio·D_c: the relaxed uniform state, an isolated wall (Néel start with the
    DMI's sense) and a cycloid start with the narrow bar's predicted equilibrium number of
    turns (2 turns where no lattice is predicted); energies per cross-section (J/m²)
    relative to the relaxed uniform state, and the walls left after relaxation."""
    D = ratio * D_C
    uniform = relaxed(mesh, D, (0, 0, 1))
    e_u = uniform.energy()
    wall = relaxed(mesh, D, states.neel_wall(easy_axis=(0, 0, 1), width=math.sqrt(A / K_EFF),
                                             chirality=-int(math.copysign(1, D))))
    info = walls.analyze(wall, uniform_energy=e_u) if count_walls(wall) == 1 else None
    lam = spiral_period(D)
    turns = max(1, round(L / lam)) if lam else 2
    spiral = relaxed(mesh, D, cycloid(D, turns))
    return {"D_over_Dc": ratio, "D_J_m2": D, "D_over_Dc_narrow": D / D_C_NARROW,
            "uniform_walls": count_walls(uniform),
            "wall_walls": count_walls(wall),
            "sigma_J_m2": (wall.energy() - e_u) / (W * W),
            "wall_kind": info.kind if info else "-",
            "sigma_1d_J_m2": SIGMA0 - math.pi * abs(D), "sigma_narrow_J_m2": sigma_narrow(D),
            "lambda_pred_nm": lam * 1e9 if lam else float("nan"), "turns_start": turns,
            "spiral_walls": count_walls(spiral),
            "E_spiral_minus_uniform_J_m2": (spiral.energy() - e_u) / (W * W)}


THRESHOLD_RATIOS = (0.8, 1.0, 1.1, 1.2, 1.3, 1.4, 1.6, 1.8)


def zero_crossing(ratios, sigmas):
    """D/D_c where the measured σ changes sign from + to − (linear interpolation), or None."""
    for (r0, s0), (r1, s1) in zip(zip(ratios, sigmas), list(zip(ratios, sigmas))[1:]):
        if s0 > 0 >= s1:
            return r0 + (r1 - r0) * s0 / (s0 - s1)
    return None


def plot(rows, scan, crossing, filename):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    d = np.linspace(0, 1.9, 200)
    left.plot(d, (SIGMA0 - math.pi * d * D_C) * 1e3, "k-", lw=1, label="1D: 4√(AK_eff) − π|D|")
    left.plot(d, [sigma_narrow(x * D_C) * 1e3 for x in d], "k--", lw=1,
              label="narrow bar: 4√(AK′) − π|D|, K′ = K_eff + D²/4A")
    pts = [(abs(r["D_over_Dc"]), r["sigma_J_m2"]) for r in rows] + \
          [(r["D_over_Dc"], r["sigma_J_m2"]) for r in scan if r["wall_walls"] == 1]
    left.plot([p[0] for p in pts], [p[1] * 1e3 for p in pts], "o", color="tab:blue",
              label="femag: relaxed isolated wall")
    left.axhline(0, color="0.6", lw=0.8)
    for x, name in ((1.0, "D_c"), (D_C_NARROW / D_C, "D_c′")):
        left.axvline(x, color="tab:red", ls=":", lw=1)
        left.text(x, left.get_ylim()[1] * 0.9 if left.get_ylim()[1] > 0 else 1, " " + name,
                  color="tab:red", fontsize=8)
    if crossing is not None:
        left.plot([crossing], [0], "x", color="tab:red", ms=8, label=f"measured σ = 0 at {crossing:.3f} D_c")
    left.set_xlabel("D / D_c")
    left.set_ylabel("σ (mJ/m²)")
    left.set_title("wall energy, 120 × 2 × 2 nm bar", fontsize=9)
    left.legend(fontsize=7)
    x = [r["D_over_Dc"] for r in scan]
    right.axhline(0, color="k", lw=1, label="relaxed uniform state")
    right.plot(x, [r["E_spiral_minus_uniform_J_m2"] * 1e3 for r in scan], "s-", color="tab:green",
               label="relaxed cycloid start")
    right.plot(x, [r["sigma_J_m2"] * 1e3 for r in scan], "o-", color="tab:blue",
               label="relaxed isolated wall")
    for r in scan:
        right.annotate(f"{r['spiral_walls']}", (r["D_over_Dc"], r["E_spiral_minus_uniform_J_m2"] * 1e3),
                       textcoords="offset points", xytext=(0, 6), fontsize=7, ha="center")
    for xv in (1.0, D_C_NARROW / D_C):
        right.axvline(xv, color="tab:red", ls=":", lw=1)
    right.set_xlabel("D / D_c")
    right.set_ylabel("(E − E_uniform) / cross-section (mJ/m²)")
    right.set_title("spiral vs uniform (numbers: walls left in the cycloid)", fontsize=9)
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(filename, dpi=120)
    plt.close(fig)


def main(out_dir="out/dmi_wall", comm=MPI.COMM_WORLD):
    mesh = femag.geometries.box(L, W, W, h=1e-9, comm=comm)
    rows = [wall_row(mesh, r) for r in (0.0, 0.25, -0.25, 0.5, -0.5, 0.75, 0.9)]
    scan = [threshold_row(mesh, r) for r in THRESHOLD_RATIOS]
    crossing = zero_crossing([r["D_over_Dc"] for r in scan], [r["sigma_J_m2"] for r in scan])
    if comm.rank == 0:
        os.makedirs(out_dir, exist_ok=True)
        for name, table in (("walls.csv", rows), ("threshold.csv", scan)):
            with open(os.path.join(out_dir, name), "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(table[0]))
                writer.writeheader()
                writer.writerows(table)
        for r in rows:
            print(f"D/Dc = {r['D_over_Dc']:5.2f}: {r['kind']:6s} ω_y = {r['rotation_axis_y']:+.2f} "
                  f"σ = {r['sigma_J_m2'] * 1e3:.3f} mJ/m² (analytic {r['sigma_analytic_J_m2'] * 1e3:.3f}, "
                  f"{100 * r['rel_error']:+.1f} %)", flush=True)
        print(f"threshold: 1D D_c = {D_C * 1e3:.3f} mJ/m², narrow bar D_c' = {D_C_NARROW * 1e3:.3f} mJ/m² "
              f"= {D_C_NARROW / D_C:.3f} D_c", flush=True)
        for r in scan:
            print(f"D/Dc = {r['D_over_Dc']:4.2f} (D/Dc' = {r['D_over_Dc_narrow']:.3f}): isolated wall "
                  f"({r['wall_walls']} wall) σ = {r['sigma_J_m2'] * 1e3:+.3f} mJ/m² "
                  f"(narrow-bar model {r['sigma_narrow_J_m2'] * 1e3:+.3f}, 1D {r['sigma_1d_J_m2'] * 1e3:+.3f}); "
                  f"cycloid of {r['turns_start']} turns → {r['spiral_walls']} walls, "
                  f"E − E_uniform = {r['E_spiral_minus_uniform_J_m2'] * 1e3:+.3f} mJ/m²; "
                  f"uniform start keeps {r['uniform_walls']} walls", flush=True)
        text = (f"measured σ = 0 at D = {crossing:.3f} D_c (narrow-bar prediction D_c' = "
                f"{D_C_NARROW / D_C:.3f} D_c)" if crossing else "σ does not change sign in the scan")
        print(text, flush=True)
        plot(rows, scan, crossing, os.path.join(out_dir, "dmi_spiral.png"))
    return rows, scan


if __name__ == "__main__":
    main()
