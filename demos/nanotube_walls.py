"""Transverse versus vortex head-to-head walls in a permalloy nanotube (full demag).

Tube along z: outer radius 30 nm, inner 20 nm, length 300 nm, h = 4 nm; permalloy
Ms = 8.6e5 A/m, A = 1.3e-11 J/m, no crystal anisotropy. A head-to-head wall at z = 0 is
started as a transverse wall (m through +x) and as a vortex wall (m curling around the
axis), each relaxed (sim.minimize); the reference is the relaxed single-domain tube
(m along +z). Printed and written to out/nanotube_walls/results.csv: E_wall − E_uniform
(J), the kind found by femag.walls.analyze (transverse / vortex), width; one ParaView
folder and one PNG per wall. Theory (Landeros et al., PRB 79, 024404 (2009)): in
permalloy tubes of these radii the vortex wall has the lower energy.

    mpirun -n 2 python demos/nanotube_walls.py
"""
from __future__ import annotations

import csv
import os

from mpi4py import MPI

import femag
from femag import states, walls
from wall_common import relaxed

R_OUT, R_IN, LENGTH, H = 30e-9, 20e-9, 300e-9, 4e-9



def main(out_dir="out/nanotube_walls", comm=MPI.COMM_WORLD):
    mesh = femag.geometries.nanotube(R_OUT, R_IN, LENGTH, h=H, comm=comm)
    e_uniform = relaxed(mesh, (0, 0, 1)).energy()
    rows = []
    for name, m0 in (("transverse", states.transverse_wall(axis=(0, 0, 1), transverse=(1, 0, 0),
                                                            width=10e-9)),
                     ("vortex", states.tube_vortex_wall(axis=(0, 0, 1), width=10e-9))):
        sim = relaxed(mesh, m0)
        info = walls.analyze(sim, normal=(0, 0, 1), uniform_energy=e_uniform)
        folder = os.path.join(out_dir, name)
        sim.save(folder, overwrite=True)
        femag.plot.snapshot(sim, os.path.join(out_dir, f"{name}.png"), kind="glyphs", component="mz")
        rows.append({"start": name, "relaxed_kind": info.kind,
                     "E_wall_minus_uniform_J": info.energy - e_uniform,
                     "width_nm": info.width * 1e9, "coherence": info.coherence})
    if comm.rank == 0:
        with open(os.path.join(out_dir, "results.csv"), "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        for r in rows:
            print(f"{r['start']:10s} start -> {r['relaxed_kind']:10s} "
                  f"E_wall = {r['E_wall_minus_uniform_J']:.4e} J  Δ = {r['width_nm']:.1f} nm",
                  flush=True)
        best = min(rows, key=lambda r: r["E_wall_minus_uniform_J"])
        print(f"lower-energy wall: {best['relaxed_kind']}", flush=True)
    return rows


if __name__ == "__main__":
    import femag.plot  # noqa: F401
    main()
