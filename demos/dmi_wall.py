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
rotation axis and σ against a relaxed uniform state; (2) for D/D_c = 0.8 … 1.4 relax a
cycloid of 8 turns and the uniform state: E_spiral − E_uniform changes sign at D_c
(up to the strip's edge tilt). Results: out/dmi_wall/results.csv, sigma.png.

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


def spiral_row(mesh, ratio, turns=8):
    D = ratio * D_C
    k = -math.copysign(2 * math.pi * turns / L, D)  # D > 0 favours k < 0 (femag.dmi)
    sim = simulation(mesh, D)
    sim.m = lambda x: np.array([np.sin(k * x[0]), 0 * x[0], np.cos(k * x[0])])
    sim.minimize(tol=1.0, max_iterations=50000)
    s, mbar = walls.profile(sim)
    # count the remaining 180° walls: sign changes of the averaged m_z
    n_walls = int(np.sum(np.diff(np.sign(mbar[:, 2])) != 0))
    delta_e = (sim.energy() - relaxed_uniform_energy(mesh, D)) / (W * W)
    return {"D_over_Dc": ratio, "D_J_m2": D, "walls_left": n_walls,
            "E_spiral_minus_uniform_J_m2": delta_e}


def main(out_dir="out/dmi_wall", comm=MPI.COMM_WORLD):
    mesh = femag.geometries.box(L, W, W, h=1e-9, comm=comm)
    rows = [wall_row(mesh, r) for r in (0.0, 0.25, -0.25, 0.5, -0.5, 0.75, 0.9)]
    spirals = [spiral_row(mesh, r) for r in (0.8, 1.0, 1.2, 1.4, 1.6, 1.8)]
    if comm.rank == 0:
        os.makedirs(out_dir, exist_ok=True)
        for name, table in (("walls.csv", rows), ("spirals.csv", spirals)):
            with open(os.path.join(out_dir, name), "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(table[0]))
                writer.writeheader()
                writer.writerows(table)
        for r in rows:
            print(f"D/Dc = {r['D_over_Dc']:5.2f}: {r['kind']:6s} ω_y = {r['rotation_axis_y']:+.2f} "
                  f"σ = {r['sigma_J_m2'] * 1e3:.3f} mJ/m² (analytic {r['sigma_analytic_J_m2'] * 1e3:.3f}, "
                  f"{100 * r['rel_error']:+.1f} %)", flush=True)
        for r in spirals:
            print(f"D/Dc = {r['D_over_Dc']:4.2f}: spiral start keeps {r['walls_left']} walls, "
                  f"E_spiral − E_uniform = {r['E_spiral_minus_uniform_J_m2'] * 1e3:+.3f} mJ/m² "
                  f"per cross-section", flush=True)
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(5, 3.5))
        d = np.linspace(0, 1, 50)
        ax.plot(d, (SIGMA0 - math.pi * d * D_C) * 1e3, "k-", label="4√(AK) − π|D|")
        ax.plot([abs(r["D_over_Dc"]) for r in rows], [r["sigma_J_m2"] * 1e3 for r in rows], "o",
                label="femag (relaxed)")
        ax.set_xlabel("|D| / D_c")
        ax.set_ylabel("σ (mJ/m²)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, "sigma.png"), dpi=120)
    return rows, spirals


if __name__ == "__main__":
    main()
