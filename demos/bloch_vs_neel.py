"""Bloch or Néel? The 180° wall in permalloy films of thickness 2–80 nm, with full demag.

Permalloy: Ms = 8.6e5 A/m, A = 1.3e-11 J/m, plus a small in-plane uniaxial anisotropy
Ku = 500 J/m³ along y (Q = 2Ku/(μ0Ms²) = 1.1e-3, an induced anisotropy of the size
found in real permalloy films) that defines the 180° wall: domains ±y, wall normal x,
film normal z. Sample: a film strip Lx × Ly × t (x across the wall, y along it).

For every thickness the wall is started as a Bloch wall (m through ±z, out of the film
plane) and as a Néel wall (m through ±x, in the plane), each relaxed with exchange,
anisotropy and demag (sim.minimize), then measured with femag.walls:

* kind (bloch / neel / asymmetric), width Δ of the tanh fit of m_y;
* σ (J/m²) from local energy densities in the central half of the strip (|y| < Ly/4),
  relative to the domain energy density at both ends along x
  (:func:`femag.walls.local_energy_per_area`): the strip's y ends carry the domains'
  magnetic charges, which a uniform reference state would not share with the wall state.

Outputs in out_dir: results.csv (one row per thickness and start), sigma.png (σ vs t for
both starts), one ParaView folder per relaxed wall, and the crossover thickness where the
Néel start stops being the lower-energy one. Run by hand (full sizes):

    mpirun -n 2 python demos/bloch_vs_neel.py            # full: 2, 5, 10, 20, 40, 60, 80 nm
    mpirun -n 2 python demos/bloch_vs_neel.py --quick    # 3 thicknesses, coarse mesh

``run(thicknesses, h, out_dir, quick=True)`` is what ``make demo`` calls.
"""
from __future__ import annotations

import csv
import math
import os
import sys
import time

import numpy as np
from mpi4py import MPI

import femag
from femag import states, walls

MS, A, KU = 8.6e5, 1.3e-11, 500.0
L_EX = math.sqrt(2 * A / (femag.MU0 * MS ** 2))  # 5.3 nm
FULL_THICKNESSES = (2e-9, 5e-9, 10e-9, 20e-9, 40e-9, 60e-9, 80e-9)


def sample(t, quick):
    """Strip size (Lx, Ly) in m and element size h in m for film thickness t (m)."""
    if quick:
        return 160e-9, 240e-9, 8e-9
    return max(240e-9, 5 * t), max(320e-9, 6 * t), 5e-9


def relax_wall(mesh, start, t, comm, tol):
    mat = femag.Material(Ms=MS, A=A, Ku=KU, axis=(0, 1, 0), alpha=0.5)
    sim = femag.Simulation(mesh, mat, name=f"{start}_{t * 1e9:g}nm")
    sim.add(femag.Exchange(), femag.UniaxialAnisotropy(), femag.Demag())
    width = max(2 * L_EX, t / 2)
    make = states.bloch_wall if start == "bloch" else states.neel_wall
    sim.m = make(normal=(1, 0, 0), easy_axis=(0, 1, 0), width=width)
    begin = time.perf_counter()
    try:
        result = sim.minimize(tol=tol, max_iterations=6000)
        converged = True
    except femag.MinimizationError as err:  # keep the state reached and say so
        if comm.rank == 0:
            print(f"  {start} t = {t * 1e9:g} nm: {err}", flush=True)
        result, converged = None, False
    return sim, result, converged, time.perf_counter() - begin


def measure(sim, Ly):
    def central(x):  # the wall away from the strip's charged y ends
        return np.abs(x[:, 1]) < Ly / 4
    info = walls.analyze(sim, normal=(1, 0, 0), easy_axis=(0, 1, 0), mask=central)
    sigma = walls.local_energy_per_area(sim, normal=(1, 0, 0), mask=central)
    return info, sigma


def crossover(thicknesses, sigma_bloch, sigma_neel):
    """First thickness (m) where σ_Néel − σ_Bloch changes sign to > 0 (linear
    interpolation), or None."""
    d = np.asarray(sigma_neel) - np.asarray(sigma_bloch)
    for i in range(len(d) - 1):
        if d[i] <= 0 < d[i + 1]:
            return thicknesses[i] + (thicknesses[i + 1] - thicknesses[i]) * (-d[i]) / (d[i + 1] - d[i])
    return None


def plot(rows, filename):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for start, marker in (("bloch", "o"), ("neel", "s")):
        sel = [r for r in rows if r["start"] == start]
        ax.plot([r["t_nm"] for r in sel], [r["sigma_J_m2"] * 1e3 for r in sel], marker=marker,
                label=f"started as {start} (relaxed: " + ", ".join(r["kind"] for r in sel) + ")")
    ax.set_xlabel("film thickness t (nm)")
    ax.set_ylabel("wall energy σ (mJ/m²)")
    ax.set_title("180° wall in permalloy films (Ku = 500 J/m³ in-plane)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(filename, dpi=120)
    plt.close(fig)


def run(thicknesses=FULL_THICKNESSES, h=None, out_dir="out/bloch_vs_neel", quick=True,
        comm=MPI.COMM_WORLD, tol=None):
    """Relax Bloch- and Néel-started walls for each film thickness (m); returns the rows.

    h: element size in m (default by `quick`); tol: minimiser torque in A/m (default 50
    quick, 5 full)."""
    tol = tol or (50.0 if quick else 5.0)
    os.makedirs(out_dir, exist_ok=True) if comm.rank == 0 else None
    comm.barrier()
    rows = []
    for t in thicknesses:
        Lx, Ly, h_default = sample(t, quick)
        mesh = femag.geometries.film(Lx, Ly, t, h=h or h_default, comm=comm)
        for start in ("bloch", "neel"):
            sim, result, converged, seconds = relax_wall(mesh, start, t, comm, tol)
            info, sigma = measure(sim, Ly)
            sim.save(os.path.join(out_dir, f"{start}_t{t * 1e9:g}nm"), overwrite=True)
            row = {"t_nm": t * 1e9, "start": start, "kind": info.kind,
                   "sigma_J_m2": sigma, "sigma_uniform_ref_J_m2": info.energy_per_area,
                   "width_nm": info.width * 1e9, "neel_angle_deg": math.degrees(info.neel_angle),
                   "coherence": info.coherence, "converged": converged,
                   "iterations": result.iterations if result else -1, "seconds": seconds}
            rows.append(row)
            if comm.rank == 0:
                print(f"t = {t * 1e9:5.1f} nm  start {start:5s} -> {info.kind:10s} "
                      f"σ = {sigma * 1e3:7.4f} mJ/m²  Δ = {info.width * 1e9:6.2f} nm  "
                      f"ψ = {row['neel_angle_deg']:5.1f}°  C = {info.coherence:.2f}  "
                      f"({seconds:.0f} s)", flush=True)
    sb = [r["sigma_J_m2"] for r in rows if r["start"] == "bloch"]
    sn = [r["sigma_J_m2"] for r in rows if r["start"] == "neel"]
    cross = crossover(list(thicknesses), sb, sn)
    if comm.rank == 0:
        with open(os.path.join(out_dir, "results.csv"), "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        plot(rows, os.path.join(out_dir, "sigma.png"))
        text = (f"crossover (Néel start no longer lower): t ≈ {cross * 1e9:.1f} nm" if cross
                else "no crossover inside the thickness range")
        print(text, flush=True)
        with open(os.path.join(out_dir, "crossover.txt"), "w") as fh:
            fh.write(text + "\n")
    return rows


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    run(thicknesses=(5e-9, 20e-9, 40e-9) if quick else FULL_THICKNESSES, quick=quick,
        out_dir="out/bloch_vs_neel_quick" if quick else "out/bloch_vs_neel")
