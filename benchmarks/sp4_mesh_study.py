"""SP#4 field 1 on several meshes: how far behind the references femag's ⟨my⟩ falls.

    .venv/bin/python benchmarks/sp4_mesh_study.py [--meshes demo layers6 ...] [--t-end 0.6e-9]
    mpirun --allow-run-as-root -n 2 .venv/bin/python benchmarks/sp4_mesh_study.py --meshes demo

Each mesh gets its own minimised s-state, then field 1 with the demo's integrator
(tangent-plane, order 2, 0.05 rad). One markdown row per mesh: nodes, s-state energy
(J) and ⟨my⟩, the lag (ps) at the start of each 0.1 ns window from 0.3 ns, max |Δ⟨my⟩|
against OOMMF 2.5 nm, and the first ⟨mx⟩ zero crossing. The lag is the time shift
(0.25 ps steps, positive: femag behind) that best fits femag's ⟨my⟩ over the window to
the reference's. Results: docs/llg.md section 6.2.
"""
import argparse
import importlib.util
import os
import time

import numpy as np
from mpi4py import MPI

import femag

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("sp4_demo", os.path.join(HERE, "..", "demos", "sp4.py"))
sp4 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sp4)

NM = 1e-9
#: name -> (description, keyword arguments of sp4.build or of structured_grid)
MESHES = {
    "layers1": ("h = 5 nm, 2.5 nm sides, 1 layer", dict(layers=1, edge_h=2.5 * NM)),
    "layers2": ("h = 5 nm, 2.5 nm sides, 2 layers", dict(layers=2, edge_h=2.5 * NM)),
    "demo": ("h = 5 nm, 2.5 nm sides, 3 layers (the demo)", dict(layers=3, edge_h=2.5 * NM)),
    "dense": ("the demo's mesh, dense B", dict(layers=3, edge_h=2.5 * NM, demag="dense")),
    "layers6": ("h = 5 nm, 2.5 nm sides, 6 layers", dict(layers=6, edge_h=2.5 * NM)),
    "sides1.25": ("h = 5 nm, 1.25 nm sides, 3 layers",
                  dict(layers=3, edge_h=1.25 * NM, edge_width=20 * NM)),
    "layers6_sides1.25": ("h = 5 nm, 1.25 nm sides, 6 layers",
                          dict(layers=6, edge_h=1.25 * NM, edge_width=20 * NM)),
    "grid5": ("structured 5 nm grid, 3 layers", dict(structured=5.0, layers=3)),
    "grid2.5": ("structured 2.5 nm grid, 2 layers", dict(structured=2.5, layers=2)),
}


def structured_grid(cell_nm, layers, comm):
    """The platelet as a regular grid of cell_nm squares (two triangles each, diagonals
    alternating), extruded in `layers`: the finite-difference cells' layout."""
    import gmsh

    from femag.mesh import from_gmsh_model, gmsh_session
    lx, ly, lz = (s / NM for s in sp4.SIZE)
    with gmsh_session():
        if comm.rank == 0:
            occ = gmsh.model.occ
            face = occ.addRectangle(-lx / 2, -ly / 2, -lz / 2, lx, ly)
            occ.synchronize()
            for _, curve in gmsh.model.getBoundary([(2, face)], oriented=False):
                x0, y0, _, x1, y1, _ = gmsh.model.getBoundingBox(1, curve)
                cells = (lx if abs(x1 - x0) > abs(y1 - y0) else ly) / cell_nm
                gmsh.model.mesh.setTransfiniteCurve(curve, round(cells) + 1)
            gmsh.model.mesh.setTransfiniteSurface(face, arrangement="Alternate")
            volumes = occ.extrude([(2, face)], 0, 0, lz, numElements=[layers], recombine=False)
            occ.synchronize()
            gmsh.model.addPhysicalGroup(3, [t for d, t in volumes if d == 3], 1)
            gmsh.model.setPhysicalName(3, 1, "magnet")
            gmsh.model.mesh.generate(3)
        return from_gmsh_model(comm=comm, unit_length=NM)


def build(options, comm):
    options = dict(options)
    if "structured" in options:
        mesh = structured_grid(options.pop("structured"), options.pop("layers"), comm)
        sim = femag.Simulation(mesh, femag.Material(**sp4.MATERIAL), name="sp4")
        sim.add(femag.Exchange(), femag.Demag(), femag.Zeeman((0.0, 0.0, 0.0)))
        return sim
    return sp4.build(5 * NM, comm, **options)


def lags(t, my, t_ref, my_ref, starts, width=0.1e-9):
    """Best-fitting time shift (s) of my onto the reference in each window [s, s + width)."""
    shifts = np.arange(-20, 20.001, 0.25) * 1e-12
    out = []
    for start in starts:
        inside = (t >= start) & (t <= start + width)
        if inside.sum() < 5:
            out.append(float("nan"))
            continue
        misfit = [np.sum((my[inside] - np.interp(t[inside] - s, t_ref, my_ref)) ** 2) for s in shifts]
        out.append(float(shifts[int(np.argmin(misfit))]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--meshes", nargs="+", default=["demo"], choices=sorted(MESHES))
    ap.add_argument("--t-end", type=float, default=0.6e-9, help="duration of field 1 (s)")
    ap.add_argument("--out", default="out/sp4_mesh_study")
    args = ap.parse_args(argv)
    comm = MPI.COMM_WORLD
    t_ref, m_ref = sp4.reference("oommf_2.5nm", 1)
    starts = np.arange(0.3e-9, args.t_end - 0.05e-9, 0.1e-9)
    rows = []
    for name in args.meshes:
        label, options = MESHES[name]
        start = time.perf_counter()
        sim = build(options, comm)
        nodes = comm.allreduce(sim.n_owned)
        sp4.s_state(sim)
        energy = sim.energy()
        m_avg = sim.m_average()
        m0 = sim.m.x.array.copy()
        t, m, _ = sp4.run_field(sim, m0, 1, t_end=args.t_end, integrator="tangent-plane",
                                output=os.path.join(args.out, name), max_angle=0.05)
        c = sp4.compare(t, m, 1)
        lag = lags(t, m[:, 1], t_ref, m_ref[:, 1], starts)
        rows.append(f"| {label} | {nodes} | {energy:.5e}, {m_avg[1]:.4f} | "
                    + " / ".join(f"{x * 1e12:+.2f}" for x in lag)
                    + f" | {c['max_dm'][1]:.3f} | {100 * (c['crossing'] / c['crossing_ref'] - 1):+.2f} % "
                    f"| {time.perf_counter() - start:.0f} |")
        if comm.rank == 0:
            print(rows[-1], flush=True)
    if comm.rank == 0:
        print(f"\n| mesh | nodes | s-state E (J), ⟨my⟩ | lag (ps) at "
              + " / ".join(f"{s * 1e9:.1f}" for s in starts)
              + f" ns | max \\|Δ⟨my⟩\\| 0–{args.t_end * 1e9:g} ns | first crossing | wall s |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(rows))


if __name__ == "__main__":
    main()
