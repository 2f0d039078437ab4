"""muMAG standard problem #4: switching of a permalloy platelet, compared with OOMMF and magnum.np.

Permalloy 500 × 125 × 3 nm, Ms = 8.0e5 A/m, A = 1.3e-11 J/m, α = 0.02,
γ = 2.211e5 m/(A·s), exchange + Fredkin–Koehler demag + Zeeman. The platelet is meshed
with h = 5 nm in plane, refined to 2.5 nm within 20 nm of its sides, and 3 element layers
across the 3 nm. The s-state is minimised from m ∝ (1, 0.25, 0.1) to max |m × H| < 1 A/m
(--s-state relax: damped LLG at α = 1 instead), then the field is applied for 1 ns
(second-order tangent-plane scheme, at most 0.05 rad per step at any node):

    field 1: μ0H = (−24.6, 4.3, 0) mT        field 2: μ0H = (−35.5, −6.3, 0) mT

The reference curves (../shared/reference/sp4/: OOMMF at 2.5 and 5 nm cells, magnum.np at
5 nm) are compared by the two numbers the standard problem is judged by: the largest
|Δ⟨my⟩| over the run (field 1, against the converged OOMMF 2.5 nm run) and the time of
the first zero crossing of ⟨mx⟩ (both fields).

    python demos/sp4.py                       # h = 5 nm × 3 layers, both fields, 1 ns
    mpirun -n 2 python demos/sp4.py --h 3e-9  # finer
    python demos/sp4.py --quick               # h = 10 nm (5 nm at the sides), field 1, 0.2 ns
    mpirun -n 2 python demos/sp4.py --fields 2 --s-state-from out/sp4/field1 --out out/sp4
                                              # field 2 from a field-1 run's s-state

Writes into --out (default out/sp4): field1/ and field2/ run folders (table.csv,
fields.xdmf ParaView series), sp4.png (the overlay plot), sp4.json (the numbers and
wall times).
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from mpi4py import MPI

import femag

MU0 = 4e-7 * np.pi
NM = 1e-9
SIZE = (500 * NM, 125 * NM, 3 * NM)  # m
MATERIAL = dict(Ms=8.0e5, A=1.3e-11, alpha=0.02, gamma=2.211e5)  # A/m, J/m, 1, m/(A·s)
FIELDS_MT = {1: (-24.6, 4.3, 0.0), 2: (-35.5, -6.3, 0.0)}  # μ0H in mT
START = (1.0, 0.25, 0.1)

_HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE_DIRS = (os.environ.get("FEMAG_SP4_REFERENCE", ""),
                  os.path.join(_HERE, "..", "..", "shared", "reference", "sp4"),
                  "/work/shared/reference/sp4")


def reference_dir():
    """The folder with the SP#4 reference curves, or None (env FEMAG_SP4_REFERENCE first)."""
    for path in REFERENCE_DIRS:
        if path and os.path.isfile(os.path.join(path, "oommf_2.5nm_field1.csv")):
            return os.path.abspath(path)
    return None


def reference(name, field):
    """(t in s, m (n, 3)) of a reference curve, e.g. name "oommf_2.5nm", field 1."""
    folder = reference_dir()
    if folder is None:
        raise FileNotFoundError("SP#4 reference curves not found; set FEMAG_SP4_REFERENCE to "
                                "the folder with oommf_2.5nm_field1.csv")
    with open(os.path.join(folder, f"{name}_field{field}.csv")) as f:
        rows = [line for line in f if line[:1].isdigit() or line[:1] in "-+."]
    data = np.loadtxt(rows, delimiter=",", ndmin=2)
    return data[:, 0], data[:, 1:4]


def build(h, comm=MPI.COMM_WORLD, demag="auto", layers=None, edge_h=None, edge_width=None):
    """The platelet meshed with in-plane element size h (m), `layers` element layers
    across the 3 nm (default ceil(3 nm/h)) and optionally a finer size edge_h (m) within
    edge_width (m) of its sides, and its simulation (exchange, demag, zero Zeeman
    field), m = START normalised."""
    mesh = femag.geometries.box(*SIZE, h=h, comm=comm, layers=layers, edge_h=edge_h,
                                edge_width=edge_width)
    sim = femag.Simulation(mesh, femag.Material(**MATERIAL), name="sp4")
    sim.add(femag.Exchange(), femag.Demag(method=demag), femag.Zeeman((0.0, 0.0, 0.0)))
    sim.m = START
    return sim


def set_field(sim, field_mT):
    """Set the uniform applied field from μ0H in mT (stored as H in A/m)."""
    sim.term("zeeman").set_field(B=np.asarray(field_mT, dtype=float) * 1e-3)


def s_state(sim, how="minimize", tol=1.0):
    """The s-state from m ∝ START: damped LLG at α = 1 ("relax", the usual protocol) or
    femag's energy minimiser ("minimize"), to max |m × H| < tol (A/m)."""
    sim.m = START
    set_field(sim, (0.0, 0.0, 0.0))
    if how == "minimize":
        return sim.minimize(tol=tol)
    return sim.relax(tol=tol, alpha=1.0, integrator="rk23", verbose=False)


def first_zero_crossing(t, mx):
    """Time (s) where mx first changes sign from + to −, linearly interpolated (nan if never)."""
    t, mx = np.asarray(t), np.asarray(mx)
    below = np.nonzero((mx[:-1] > 0) & (mx[1:] <= 0))[0]
    if len(below) == 0:
        return float("nan")
    i = below[0]
    return float(t[i] + (t[i + 1] - t[i]) * mx[i] / (mx[i] - mx[i + 1]))


def compare(t, m, field, t_end=None, name="oommf_2.5nm"):
    """Deviation from a reference curve over [0, t_end]: max |Δ⟨m_k⟩| per component (the
    reference interpolated at femag's saved times), and both first zero crossings (s)."""
    t_ref, m_ref = reference(name, field)
    t_ref = np.concatenate([[0.0], t_ref])  # the curves start at 1 ps; both start from the s-state
    t, m = np.asarray(t), np.asarray(m)
    t_end = t[-1] if t_end is None else t_end
    inside = (t >= t_ref[1]) & (t <= min(t_end, t_ref[-1]) * (1 + 1e-9))
    deviation = []
    for k in range(3):
        ref_k = np.interp(t[inside], t_ref[1:], m_ref[:, k])
        deviation.append(float(np.max(np.abs(m[inside, k] - ref_k))))
    return {"reference": name, "field": field, "max_dm": deviation,
            "crossing": first_zero_crossing(t, m[:, 0]),
            "crossing_ref": first_zero_crossing(t_ref[1:], m_ref[:, 0])}


def run_field(sim, m0, field, t_end=1e-9, save_every=5e-12, output=None, integrator="rk45",
              **options):
    """From the s-state m0 (nodal array), apply field 1 or 2 at t = 0 and integrate to
    t_end (s); returns (t (s), ⟨m⟩ (n, 3), RunResult)."""
    sim.m.x.array[:] = m0
    sim.t = 0.0
    set_field(sim, FIELDS_MT[field])
    result = sim.run(t_end, save_every=save_every, output=output, integrator=integrator,
                     verbose=False, overwrite=True, **options)
    t = result.column("t")
    m = np.stack([result.column("mx"), result.column("my"), result.column("mz")], axis=1)
    return t, m, result


def plot(curves, path, t_end):
    """Overlay of femag's ⟨m⟩(t) on the references, one row per field.

    curves: {field: (t (s), m (n, 3), label)} or {field: [(t, m, label), ...]} to compare
    several femag runs (e.g. two meshes)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fields = sorted(curves)
    fig, axes = plt.subplots(len(fields), 1, figsize=(8, 4.4 * len(fields)), squeeze=False)
    styles = {"oommf_2.5nm": ("k", "-", "OOMMF 2.5 nm"), "oommf_5nm": ("0.55", "--", "OOMMF 5 nm"),
              "magnumnp_5nm": ("tab:purple", ":", "magnum.np 5 nm")}
    colors = ("tab:red", "tab:green", "tab:blue")
    for ax, field in zip(axes[:, 0], fields):
        for name, (c, ls, label) in styles.items():
            try:
                t_ref, m_ref = reference(name, field)
            except (FileNotFoundError, OSError):
                continue
            keep = t_ref <= t_end * (1 + 1e-9)
            for k in range(3):
                ax.plot(t_ref[keep] * 1e9, m_ref[keep, k], color=c, ls=ls, lw=1,
                        label=label if k == 0 else None)
        runs = curves[field] if isinstance(curves[field], list) else [curves[field]]
        for j, (t, m, label) in enumerate(runs):  # the first run bold, further ones dashed
            for k, comp in enumerate("xyz"):
                ax.plot(t * 1e9, m[:, k], color=colors[k], lw=1.8 if j == 0 else 1.2,
                        ls="-" if j == 0 else (0, (4, 2 + 2 * j)), alpha=1.0 if j == 0 else 0.8,
                        label=f"femag ⟨m{comp}⟩ ({label})")
        ax.set_title(f"SP#4 field {field}: μ0H = {FIELDS_MT[field]} mT")
        ax.set_xlabel("t (ns)")
        ax.set_ylabel("⟨m⟩")
        ax.set_xlim(0, t_end * 1e9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--h", type=float, default=5e-9, help="in-plane element size (m)")
    ap.add_argument("--layers", type=int, default=3,
                    help="element layers across the 3 nm (one layer: in-plane demag −10 %%)")
    ap.add_argument("--edge-h", type=float, default=2.5e-9,
                    help="finer in-plane element size (m) at the platelet's sides "
                         "(0: none; docs/llg.md 6: the first ⟨mx⟩ crossing is +0.63 %% "
                         "late without it)")
    ap.add_argument("--edge-width", type=float, default=None,
                    help="width (m) of the refined band at the sides (default 4 h)")
    ap.add_argument("--max-angle", type=float, default=0.05,
                    help="tangent-plane: largest rotation per step (rad)")
    ap.add_argument("--order", type=int, default=2, choices=[1, 2],
                    help="tangent-plane: 2 = midpoint variant (second order), 1 = θ-scheme")
    ap.add_argument("--t-end", type=float, default=1e-9, help="duration per field (s)")
    ap.add_argument("--fields", type=int, nargs="+", default=[1, 2], choices=[1, 2])
    ap.add_argument("--integrator", default="tangent-plane",
                    choices=["rk45", "rk23", "tangent-plane"],
                    help="tangent-plane (default): implicit exchange, so the thin element "
                         "layers do not limit the step; rk45 for the reference accuracy")
    ap.add_argument("--rtol", type=float, default=None, help="RK tolerance (default 1e-7)")
    ap.add_argument("--s-state", default="minimize", choices=["relax", "minimize"])
    ap.add_argument("--s-state-from", default=None, metavar="RUN_FOLDER",
                    help="take the s-state from the first saved step (t = 0) of an earlier "
                         "run folder of the same mesh (e.g. out/sp4/field1) instead")
    ap.add_argument("--save-every", type=float, default=5e-12, help="output interval (s)")
    ap.add_argument("--out", default="out/sp4")
    ap.add_argument("--quick", action="store_true", help="h = 10 nm (5 nm at the sides), field 1, 0.2 ns")
    args = ap.parse_args(argv)
    if args.quick:
        args.h, args.layers, args.t_end, args.fields = 10e-9, 2, 0.2e-9, [1]
        args.edge_h = 5e-9
    if not args.edge_h or args.edge_h >= args.h:
        args.edge_h = None
    comm = MPI.COMM_WORLD
    start = time.perf_counter()
    sim = build(args.h, comm, layers=args.layers, edge_h=args.edge_h, edge_width=args.edge_width)
    t_setup = time.perf_counter() - start
    if args.s_state_from:
        femag.load(args.s_state_from).restore(sim, step=0)
        sim.t = 0.0
        relaxed = f"read from step 0 of {args.s_state_from}"
    else:
        relaxed = s_state(sim, args.s_state)
    t_sstate = time.perf_counter() - start - t_setup
    m0 = sim.m.x.array.copy()
    say = print if comm.rank == 0 else (lambda *a, **k: None)
    edge = f", {args.edge_h * 1e9:g} nm at the sides" if args.edge_h else ""
    say(f"SP#4, h = {args.h * 1e9:g} nm{edge}, {args.layers} layer(s), {args.integrator}, "
        f"{comm.size} rank(s): setup {t_setup:.1f} s, "
        f"s-state ({args.s_state}) {t_sstate:.1f} s: {relaxed}; <m> = "
        f"({', '.join(f'{v:.4f}' for v in sim.m_average())})")
    options = {"rtol": args.rtol, "atol": args.rtol} if args.rtol else {}
    if args.integrator == "tangent-plane":
        options = {"max_angle": args.max_angle, "order": args.order}
    summary = {"h [m]": args.h, "layers": args.layers, "ranks": comm.size, "integrator": args.integrator,
               "order": args.order, "max_angle": args.max_angle, "s_state": args.s_state_from or args.s_state, "setup [s]": t_setup, "s_state [s]": t_sstate,
               "edge_h [m]": args.edge_h, "edge_width [m]": args.edge_width,
               "nodes": comm.allreduce(sim.n_owned, op=MPI.SUM), "fields": {}}
    curves = {}
    for field in args.fields:
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        t, m, result = run_field(sim, m0, field, args.t_end, args.save_every,
                                 os.path.join(args.out, f"field{field}"), args.integrator,
                                 **options)
        wall = time.perf_counter() - t0
        cpu = comm.allreduce(time.process_time() - cpu0, op=MPI.SUM)
        entry = {"wall [s]": wall, "cpu [s]": cpu, "steps": result.steps,
                 "rejected": result.rejected, "evaluations": result.evaluations,
                 "m(t_end)": m[-1].tolist()}
        if reference_dir() is not None:
            for name in ("oommf_2.5nm", "oommf_5nm", "magnumnp_5nm"):
                entry[name] = compare(t, m, field, args.t_end, name)
        summary["fields"][field] = entry
        curves[field] = (t, m, f"h = {args.h * 1e9:g} nm × {args.layers} layers{edge}")
        say(f"field {field}: {result}; wall {wall:.1f} s, cpu {cpu:.1f} s (all ranks); "
            f"<m>(t_end) = ({', '.join(f'{v:.4f}' for v in m[-1])})")
        if "oommf_2.5nm" in entry:
            c = entry["oommf_2.5nm"]
            say(f"  vs OOMMF 2.5 nm: max|Δmx, Δmy, Δmz| = "
                f"{', '.join(f'{v:.4f}' for v in c['max_dm'])}; first mx zero crossing "
                f"{c['crossing'] * 1e12:.1f} ps (reference {c['crossing_ref'] * 1e12:.1f} ps, "
                f"{100 * (c['crossing'] / c['crossing_ref'] - 1):+.2f} %)")
    summary["total wall [s]"] = time.perf_counter() - start
    if comm.rank == 0:
        os.makedirs(args.out, exist_ok=True)
        plot(curves, os.path.join(args.out, "sp4.png"), args.t_end)
        with open(os.path.join(args.out, "sp4.json"), "w") as f:
            json.dump(summary, f, indent=2)
        print(f"total {summary['total wall [s]']:.1f} s; wrote {args.out}/sp4.png, sp4.json "
              f"and the run folders", flush=True)
    return summary


if __name__ == "__main__":
    main()
