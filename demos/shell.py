"""Relaxed textures of a permalloy spherical cap and a full spherical shell (full demag),
with pictures.

Shell between radii 40 and 35 nm (5 nm thick), element size h = 3 nm; permalloy
Ms = 8.6e5 A/m, A = 1.3e-11 J/m. Two bodies: the cap of polar angle 60° around +z and
the full shell. Each is relaxed (sim.minimize) from a vortex around z (m = φ̂ with an
out-of-plane core of radius 5 nm at the z axis) and from a uniform in-plane state (+x),
both slightly perturbed (wall_common.perturbed). Reported per body and start
(out/shell/results.csv, printed): energies (J, total, exchange, demag), ⟨m⟩, the
circulation ⟨m·φ̂⟩ about z (±1: vortex, 0: no net curl), m_z on the z axis at the
outer surface (a vortex core's polarity), convergence and wall time. PNG glyph
snapshots coloured by m_z (from the default iso view) and by m_x; ParaView folders.

    python demos/shell.py
"""
from __future__ import annotations

import math
import os
import time

import numpy as np
from mpi4py import MPI

import femag
import femag.plot
from femag import states, walls
from wall_common import out_dir_ready, perturbed, record, relaxation_columns, relaxed

R_OUT, R_IN, H = 40e-9, 35e-9, 3e-9
BODIES = (("cap60", math.radians(60)), ("shell", None))


def circulation(sim):
    """Volume-weighted ⟨m·φ̂⟩ about the z axis (+1: counter-clockwise vortex)."""
    x, w, m = walls.nodal_data(sim)
    phi = np.arctan2(x[:, 1], x[:, 0])
    m_phi = -m[:, 0] * np.sin(phi) + m[:, 1] * np.cos(phi)
    return float(np.sum(w * m_phi) / np.sum(w))


def pole_mz(sim, z):
    """m_z averaged over the nodes within 3 nm of (0, 0, z) (the pole region, z in m)."""
    x, w, m = walls.nodal_data(sim)
    near = np.linalg.norm(x - np.array([0.0, 0.0, z]), axis=1) < 3e-9
    return float(np.sum(w[near] * m[near, 2]) / np.sum(w[near])) if near.any() else float("nan")


def main(out_dir="out/shell", comm=MPI.COMM_WORLD):
    out_dir_ready(out_dir, comm)
    start = time.perf_counter()
    rows = []
    for body, polar_angle in BODIES:
        mesh = femag.geometries.spherical_shell(R_OUT, R_IN, h=H, comm=comm,
                                                polar_angle=polar_angle)
        for name, m0 in (("vortex", states.vortex(core_radius=5e-9)), ("uniform_x", (1, 0, 0))):
            sim = relaxed(mesh, perturbed(m0))
            e, m = sim.energies(), sim.m_average()
            tag = f"{body}_{name}"
            title = f"{'60° cap' if polar_angle else 'full shell'} 40/35 nm, {name} start"
            for component in ("mz", "mx"):
                femag.plot.snapshot(sim, os.path.join(out_dir, f"{tag}_{component}.png"),
                                    kind="glyphs", component=component, title=title)
            sim.save(os.path.join(out_dir, tag), overwrite=True)
            rows.append({"body": body, "start": name, "E_total_J": e["total"],
                         "E_exchange_J": e["exchange"], "E_demag_J": e["demag"],
                         "mx": m[0], "my": m[1], "mz": m[2], "circulation": circulation(sim),
                         "mz_top_pole": pole_mz(sim, R_OUT),
                         "mz_bottom_pole": pole_mz(sim, -R_OUT) if polar_angle is None
                         else float("nan"),
                         **relaxation_columns(sim)})
            r = rows[-1]
            record(comm, os.path.join(out_dir, "results.csv"), rows,
                   f"{body:6s} {name:10s} E = {r['E_total_J']:.4e} J (exchange "
                   f"{r['E_exchange_J']:.3e}, demag {r['E_demag_J']:.3e})  <m> = "
                   f"({r['mx']:.3f}, {r['my']:.3f}, {r['mz']:.3f})  <m·φ> = "
                   f"{r['circulation']:.3f}  mz(top pole) = {r['mz_top_pole']:.2f}  "
                   f"converged = {r['converged']}  {r['seconds']:.0f} s")
    if comm.rank == 0:
        print(f"total {time.perf_counter() - start:.0f} s", flush=True)
    return rows


if __name__ == "__main__":
    main()
