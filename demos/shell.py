"""Relaxed texture of a permalloy spherical cap (full demag), with pictures.

Cap of a spherical shell: outer radius 40 nm, inner 35 nm, polar angle 60° around +z
(h = 3 nm); Ms = 8.6e5 A/m, A = 1.3e-11 J/m. Started from a vortex around z and from a
uniform in-plane state (+x), each relaxed; energies, ⟨m⟩ and PNG snapshots in
out/shell/, ParaView folders for both.

    mpirun -n 2 python demos/shell.py
"""
from __future__ import annotations

import math
import os

from mpi4py import MPI

import femag
import femag.plot
from femag import states
from wall_common import relaxed


def main(out_dir="out/shell", comm=MPI.COMM_WORLD):
    mesh = femag.geometries.spherical_shell(40e-9, 35e-9, h=3e-9, comm=comm,
                                            polar_angle=math.radians(60))
    results = {}
    for name, m0 in (("vortex", states.vortex(core_radius=5e-9)), ("uniform_x", (1, 0, 0))):
        sim = relaxed(mesh, m0)
        results[name] = (sim.energy(), sim.m_average())
        sim.save(os.path.join(out_dir, name), overwrite=True)
        femag.plot.snapshot(sim, os.path.join(out_dir, f"{name}.png"), kind="glyphs",
                            component="mz")
    if comm.rank == 0:
        for name, (e, m) in results.items():
            print(f"{name:10s} E = {e:.4e} J  <m> = ({m[0]:.3f}, {m[1]:.3f}, {m[2]:.3f})",
                  flush=True)
    return results


if __name__ == "__main__":
    main()
