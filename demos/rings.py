"""Rings and curved strips (permalloy, full demag): onion versus vortex, walls on arcs.

1. Flat rings, outer radius 100 nm, thickness 10 nm, widths w = 20, 40, 60 nm (h = 5 nm):
   the onion state (two transverse walls) and the vortex state (flux-closed) are each
   relaxed; both energies (J) against w: the onion pays two walls and the charges
   around them, the vortex the exchange of curling, 2πA t ln(R/r).
2. A wall in a curved strip (width 40 nm, thickness 10 nm, arc radius 60/120/240 nm and a
   straight strip of the same 300 nm mid-line length): a transverse wall at the middle
   relaxed against the relaxed wall-free state that follows the strip; the wall energy
   E_wall − E_follow (J) against the curvature 1/R.
Output: out/rings/rings.csv, arcs.csv, PNG snapshots, ParaView folders.

    mpirun -n 2 python demos/rings.py
"""
from __future__ import annotations

import csv
import math
import os

import numpy as np
from mpi4py import MPI

import femag
import femag.plot
from femag import states
from wall_common import relaxed

H = 5e-9



def rings(out_dir, comm, r_out=100e-9, t=10e-9, widths=(20e-9, 40e-9, 60e-9)):
    rows = []
    for w in widths:
        mesh = femag.geometries.ring(r_out, r_out - w, t, h=H, comm=comm)
        e = {}
        for name, m0 in (("onion", states.onion(direction=(1, 0, 0), wall_width=w / 2)),
                         ("vortex", states.vortex(core_radius=1e-9))):
            sim = relaxed(mesh, m0)
            e[name] = sim.energy()
            femag.plot.snapshot(sim, os.path.join(out_dir, f"ring_w{w * 1e9:g}nm_{name}.png"),
                                kind="glyphs", component="mx")
            sim.save(os.path.join(out_dir, f"ring_w{w * 1e9:g}nm_{name}"), overwrite=True)
        rows.append({"width_nm": w * 1e9, "E_onion_J": e["onion"], "E_vortex_J": e["vortex"],
                     "lower": "onion" if e["onion"] < e["vortex"] else "vortex"})
    return rows


def along_arc(center):
    """Unit tangent of circles about `center` (the wall-free state of an arc)."""
    return states.vortex(center=center, core_radius=1e-9)


def arcs(out_dir, comm, width=40e-9, t=10e-9, length=300e-9, radii=(60e-9, 120e-9, 240e-9)):
    rows = []
    for radius in list(radii) + [math.inf]:
        if math.isinf(radius):
            mesh = femag.geometries.box(length, width, t, h=H, comm=comm)
            follow, wall = (1, 0, 0), states.transverse_wall(axis=(1, 0, 0), transverse=(0, 1, 0),
                                                             width=width / 2)
        else:
            angle = length / radius
            if angle >= 2 * math.pi:
                continue
            mesh = femag.geometries.curved_strip(radius, width, t, angle, h=H, comm=comm)
            follow = along_arc((0, 0, 0))
            # head-to-head wall at the arc's middle (the +x axis): onion-like about +x
            wall = states.onion(direction=(1, 0, 0), wall_width=width / 2)
        e_follow = relaxed(mesh, follow).energy()
        sim = relaxed(mesh, wall)
        tag = "straight" if math.isinf(radius) else f"R{radius * 1e9:g}nm"
        femag.plot.snapshot(sim, os.path.join(out_dir, f"arc_{tag}.png"), kind="glyphs",
                            component="mx")
        rows.append({"radius_nm": radius * 1e9, "curvature_1_per_um": 0.0 if math.isinf(radius)
                     else 1e-6 / radius, "E_wall_J": sim.energy() - e_follow})
    return rows


def main(out_dir="out/rings", comm=MPI.COMM_WORLD):
    if comm.rank == 0:
        os.makedirs(out_dir, exist_ok=True)
    comm.barrier()
    tables = {"rings.csv": rings(out_dir, comm), "arcs.csv": arcs(out_dir, comm)}
    if comm.rank == 0:
        for name, rows in tables.items():
            with open(os.path.join(out_dir, name), "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
            for r in rows:
                print(name, {k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in r.items()},
                      flush=True)
    return tables


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
