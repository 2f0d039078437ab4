"""Wall time of muMAG SP#4 field 1 (s-state + 1 ns) at the demo resolution.

    .venv/bin/python benchmarks/sp4.py [--integrator tangent-plane] [--h 5e-9 --layers 3]
    mpirun --allow-run-as-root -n 2 .venv/bin/python benchmarks/sp4.py

Runs demos/sp4.py for field 1 only and prints one markdown table row: ranks, nodes,
integrator, s-state time, run wall time and CPU time (summed over ranks), steps,
rejected steps, field evaluations, and the accuracy against OOMMF 2.5 nm (max |Δmy|,
first ⟨mx⟩ zero crossing). For comparison (../shared/reference/README.md): OOMMF
7–12 s and magnum.np 10–12 s for 1 ns at 5 nm cells on this kind of 2-core machine;
the issue's target is ≤ 10× that.
"""
import argparse
import importlib.util
import os
import platform

from mpi4py import MPI

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("sp4_demo", os.path.join(HERE, "..", "demos", "sp4.py"))
sp4 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sp4)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--h", default="5e-9")
    ap.add_argument("--layers", default="3")
    ap.add_argument("--edge-h", default="2.5e-9", help="finer element size at the sides (m; 0: none)")
    ap.add_argument("--edge-width", default=None, help="width of the refined band (m)")
    ap.add_argument("--integrator", default="tangent-plane")
    ap.add_argument("--order", default="2", help="tangent-plane: 2 (midpoint) or 1 (θ-scheme)")
    ap.add_argument("--max-angle", default="0.05", help="tangent-plane: largest rotation per step (rad)")
    ap.add_argument("--out", default="out/benchmark_sp4")
    args = ap.parse_args()
    load_start = os.getloadavg()[0]
    extra = ["--max-angle", args.max_angle, "--order", args.order]
    if args.edge_h:
        extra += ["--edge-h", args.edge_h]
    if args.edge_width:
        extra += ["--edge-width", args.edge_width]
    summary = sp4.main(["--h", args.h, "--layers", args.layers, "--fields", "1",
                        "--integrator", args.integrator, "--out", args.out, *extra])
    if MPI.COMM_WORLD.rank == 0:
        f1 = summary["fields"]["1"] if "1" in summary["fields"] else summary["fields"][1]
        c = f1.get("oommf_2.5nm", {})
        load = f"{load_start:.1f} → {os.getloadavg()[0]:.1f}"
        print("| ranks | nodes | integrator | s-state s | run wall s | run cpu s | steps | rejected "
              "| evaluations | max \\|Δmy\\| | crossing ps (ref) | load (start → end) |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        print(f"| {summary['ranks']} | {summary['nodes']} | {summary['integrator']} | "
              f"{summary['s_state [s]']:.1f} | {f1['wall [s]']:.1f} | {f1['cpu [s]']:.1f} | "
              f"{f1['steps']} | {f1['rejected']} | {f1['evaluations']} | "
              f"{c.get('max_dm', [0, float('nan')])[1]:.3f} | "
              f"{c.get('crossing', float('nan')) * 1e12:.1f} ({c.get('crossing_ref', float('nan')) * 1e12:.1f}) "
              f"| {load} on {os.cpu_count()} cores, {platform.machine()} |")


if __name__ == "__main__":
    main()
