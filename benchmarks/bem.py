"""Benchmark of the FK boundary operator: dense (Lindholm) vs H-matrix.

Run by hand, serially or on several ranks:

    .venv/bin/python benchmarks/bem.py
    mpirun --allow-run-as-root -n 2 .venv/bin/python benchmarks/bem.py

For a sphere and a box with about 2k, 5k, 10k and 20k boundary nodes it measures
the dense assembly (time, entries/s per core, memory), the H-matrix build (time,
memory, compression ratio, ranks), the matvec times and the H-vs-dense error
‖y_H − y_dense‖/‖y_dense‖ for a random x and for x a linear function of position.
The dense part is skipped (and said so) when it would exceed --dense-memory-gb or an
estimated --dense-max-seconds. Prints a markdown table (rank 0) and optionally JSON.

Times are given as wall-clock time (max over ranks) and as CPU time (process time
summed over ranks): on a shared machine the wall time includes time the processes
waited for a core, the CPU time does not (it includes MPI busy-waiting, though).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
from mpi4py import MPI

from femag.bem.operator import DenseBoundaryOperator, HierarchicalBoundaryOperator
from femag.bem.surface import body_surface

COMM = MPI.COMM_WORLD
#: boundary nodes ≈ C / h² (measured once; the mesh is refined until Nb is within 5 %)
NODES_PER_INV_H2 = {"sphere": 10.0, "box": 7.0}
#: a conservative dense assembly rate for the skip estimate (entries/s per core)
RATE_GUESS = 7e6


def say(*args):
    if COMM.rank == 0:
        print(*args, flush=True)


def surface_with_nodes(kind, target):
    """A surface of `kind` with about `target` boundary nodes."""
    h = np.sqrt(NODES_PER_INV_H2[kind] / target)
    for _ in range(5):
        surf = body_surface(kind, h, comm=COMM)
        if abs(surf.n_nodes - target) <= 0.05 * target:
            break
        h *= np.sqrt(surf.n_nodes / target)
    return surf


def timed_matvec(op, x, repeat=5):
    times = []
    for _ in range(repeat):
        COMM.Barrier()
        t0 = MPI.Wtime()
        y = op.matvec(x)
        times.append(COMM.allreduce(MPI.Wtime() - t0, op=MPI.MAX))
    return y, float(np.median(times))


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def run_case(kind, target, args):
    t0 = MPI.Wtime()
    surf = surface_with_nodes(kind, target)
    n = surf.n_nodes
    row = {"body": kind, "Nb": n, "triangles": len(surf.triangles), "ranks": COMM.size,
           "mesh_time": MPI.Wtime() - t0}
    rng = np.random.default_rng(1)
    xs = {"random": COMM.bcast(rng.standard_normal(n), root=0),
          "linear": surf.coords @ np.array([0.3, -0.5, 0.8]) + 0.1}
    dense_bytes = 8.0 * n * n
    est = n * n / (RATE_GUESS * COMM.size)
    y_dense = None
    if dense_bytes > args.dense_memory_gb * 1e9:
        row["dense"] = f"skipped: {dense_bytes / 1e9:.1f} GB > {args.dense_memory_gb} GB"
    elif est > args.dense_max_seconds:
        row["dense"] = f"skipped: ~{est:.0f} s > {args.dense_max_seconds} s"
    else:
        cpu = time.process_time()
        op = DenseBoundaryOperator(surf.coords, surf.triangles, surf.solid_angles, COMM)
        row["dense_cpu"] = COMM.allreduce(time.process_time() - cpu, op=MPI.SUM)
        row["dense_time"] = op.assembly_time
        row["dense_rate_per_core"] = n * n / (op.assembly_time * COMM.size)
        row["dense_rate_per_cpu_s"] = n * n / row["dense_cpu"]
        row["dense_bytes"] = op.memory_bytes()
        y_dense = {}
        for name, x in xs.items():
            y_dense[name], row["dense_matvec"] = timed_matvec(op, x)
        del op
    cpu = time.process_time()
    hop = HierarchicalBoundaryOperator(surf.coords, surf.triangles, surf.solid_angles, COMM,
                                       tol=args.tol, eta=args.eta, leaf_size=args.leaf_size)
    row["h_cpu"] = COMM.allreduce(time.process_time() - cpu, op=MPI.SUM)
    row["h_time"] = hop.assembly_time
    row["h_bytes"] = hop.memory_bytes()
    row["h_ratio"] = row["h_bytes"] / dense_bytes
    stats = hop.statistics()
    row["h_mean_rank"] = stats["mean_rank"]
    row["h_max_rank"] = stats["max_rank"]
    row["h_blocks"] = stats["blocks"]
    for name, x in xs.items():
        y, row["h_matvec"] = timed_matvec(hop, x)
        if y_dense is not None:
            row[f"err_{name}"] = rel(y, y_dense[name])
    return row


def fmt(row):
    def g(key, spec, scale=1.0):
        v = row.get(key)
        return format(v * scale, spec) if isinstance(v, (int, float)) else "—"
    dense = (f"{g('dense_time', '.2f')} / {g('dense_cpu', '.1f')} | "
             f"{g('dense_rate_per_core', '.1f', 1e-6)} / {g('dense_rate_per_cpu_s', '.1f', 1e-6)} | "
             f"{g('dense_bytes', '.0f', 2 ** -20)} | {g('dense_matvec', '.1f', 1e3)}"
             if "dense_time" in row else f"{row['dense']} | | | ")
    return (f"| {row['body']} | {row['Nb']} | {row['ranks']} | {dense} | "
            f"{g('h_time', '.2f')} / {g('h_cpu', '.1f')} | "
            f"{g('h_bytes', '.0f', 2 ** -20)} | {g('h_ratio', '.3f')} | "
            f"{g('h_mean_rank', '.1f')}/{row.get('h_max_rank', '—')} | "
            f"{g('h_matvec', '.1f', 1e3)} | {g('err_random', '.1e')} | {g('err_linear', '.1e')} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000, 10000, 20000])
    ap.add_argument("--bodies", nargs="+", default=["sphere", "box"])
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--eta", type=float, default=2.0)
    ap.add_argument("--leaf-size", type=int, default=64)
    ap.add_argument("--dense-memory-gb", type=float, default=12.0)
    ap.add_argument("--dense-max-seconds", type=float, default=300.0)
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args()

    # compile the numba kernels outside the timings
    warm = body_surface("sphere", 0.3, comm=COMM)
    DenseBoundaryOperator(warm.coords, warm.triangles, warm.solid_angles, COMM).matvec(
        np.ones(warm.n_nodes))
    HierarchicalBoundaryOperator(warm.coords, warm.triangles, warm.solid_angles, COMM,
                                 leaf_size=16).matvec(np.ones(warm.n_nodes))

    say(f"# femag.bem benchmark, {COMM.size} rank(s), {platform.processor() or platform.machine()}"
        f", tol={args.tol}, eta={args.eta}, leaf={args.leaf_size}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores")
    say("| body | Nb | ranks | dense build s wall / cpu | dense Mentries/s per core wall / cpu "
        "| dense MiB | dense matvec ms | H build s wall / cpu | H MiB | H/dense | rank mean/max "
        "| H matvec ms | err random | err linear |")
    say("|" + "---|" * 14)
    rows = []
    for kind in args.bodies:
        for target in args.sizes:
            row = run_case(kind, target, args)
            rows.append(row)
            say(fmt(row))
    if args.json and COMM.rank == 0:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
