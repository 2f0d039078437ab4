"""Benchmark of femag.Demag: boundary-matrix assembly and one demag evaluation.

Run by hand, serially and on two ranks:

    .venv/bin/python benchmarks/demag.py
    mpirun --allow-run-as-root -n 2 .venv/bin/python benchmarks/demag.py

For a sphere (bulk: N ≫ Nb) and a thin film (two element layers: N ≈ Nb) with about
2k, 5k, 10k and 20k boundary nodes Nb it builds the Demag term with a dense and with
an H-matrix B and prints a markdown table (rank 0): mesh nodes N, Nb, setup times
(B, FEM matrices + AMG), B memory (MiB, summed over ranks), peak resident memory of the
processes (MiB, summed), and the time of one evaluation of the field, split into the
u₁ solve, the gather + B matvec and the u₂ solve, with CG iterations. Two kinds of
evaluation: "new" (m replaced by an unrelated state; the solves start from the previous
solution) and "step" (m changed by a small rotation, as between time steps).
Times are wall clock (the slowest rank); `cpu` columns give process time summed over
ranks, the honest measure on a shared machine; "u1 / matvec / u2" is the split of the
last "new" evaluation. RSS is the processes' resident memory after the evaluations
(summed over ranks; earlier cases' freed memory may still be counted). Dense B is
skipped above --dense-max-nb.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import time

import numpy as np
from mpi4py import MPI

import femag
from femag.demag import Demag

COMM = MPI.COMM_WORLD
NM = 1e-9
#: Nb ≈ C (size/h)² for the builders used below (measured once; steered by one retry)
SHAPES = {
    "sphere": dict(size=30.0, C=15.2),
    "film": dict(size=200.0, C=3.6),
}


def say(*args):
    if COMM.rank == 0:
        print(*args, flush=True)


def build_mesh(shape, h):
    size = SHAPES[shape]["size"]
    if shape == "sphere":
        return femag.geometries.sphere(size * NM, h=h * NM, comm=COMM)
    return femag.geometries.box(size * NM, size * NM, 2 * h * NM, h=h * NM, comm=COMM)


def mesh_with_boundary_nodes(shape, target):
    """A mesh of `shape` with about `target` boundary nodes (within ~10 %)."""
    size, c = SHAPES[shape]["size"], SHAPES[shape]["C"]
    h = size * math.sqrt(c / target)
    for _ in range(2):
        mesh = build_mesh(shape, h)
        nb = femag.meshes.boundary_node_count(mesh)
        if abs(nb - target) <= 0.1 * target:
            break
        h *= math.sqrt(nb / target)
    return mesh, nb


def m_state(k):
    """A smooth, non-uniform magnetisation (k-th of a family; coordinates in m)."""
    def m(x):
        s = x / (20 * NM)
        return np.vstack([np.cos(s[0] + 0.7 * k), np.sin(s[0] + 0.7 * k) * np.cos(s[2]),
                          0.3 + np.sin(s[1] + 0.4 * k)])
    return m


def cpu_total():
    return COMM.allreduce(time.process_time(), op=MPI.SUM)


def timed_evaluations(sim, demag, kind, repeat=5):
    """Median wall and CPU time (s) of demag.field() over `repeat` evaluations, and the
    timing breakdown and iterations of the last one."""
    walls, cpus = [], []
    base = sim.nodal(sim.m, owned=False).copy()
    for k in range(repeat):
        if kind == "new":
            sim.m = m_state(k + 1)
        else:  # a small rotation of every node, like one time step
            arr = base + 1e-3 * (k + 1) * np.cross(base, [0.0, 0.0, 1.0])
            sim.m = arr
        COMM.Barrier()
        c0, t0 = cpu_total(), time.perf_counter()
        demag.field()
        walls.append(COMM.allreduce(time.perf_counter() - t0, op=MPI.MAX))
        cpus.append(cpu_total() - c0)
    t = demag.timings
    return {f"{kind}_wall": float(np.median(walls)), f"{kind}_cpu": float(np.median(cpus)),
            f"{kind}_u1": t["u1_solve"], f"{kind}_matvec": t["boundary_matvec"],
            f"{kind}_u2": t["u2_solve"], f"{kind}_iterations": demag.iterations}


def rss_mib():
    """Current resident memory of the processes, MiB summed over ranks (Linux)."""
    try:
        with open("/proc/self/status") as f:
            kib = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
    except (OSError, StopIteration):
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # the peak instead
    return COMM.allreduce(kib, op=MPI.SUM) / 1024


def run_case(mesh, mesh_time, method, args):
    sim = femag.Simulation(mesh, femag.Material(Ms=8e5, A=1.3e-11))
    sim.m = m_state(0)
    c0 = cpu_total()
    demag = Demag(method=method, ksp_rtol=args.rtol)
    sim.add(demag)
    setup_cpu = cpu_total() - c0
    demag.field()
    nb = demag.surface.n_nodes
    row = {"method": method, "ranks": COMM.size,
           "N": sim.V.dofmap.index_map.size_global, "Nb": demag.surface.n_nodes,
           "mesh_s": mesh_time, "B_s": demag.timings["boundary_matrix"],
           "fem_amg_s": demag.timings["fem_and_amg"], "setup_cpu": setup_cpu,
           "B_MiB": demag.B.memory_bytes() / 2 ** 20,
           "B_ratio": demag.B.compression_ratio()}
    row.update(timed_evaluations(sim, demag, "new"))
    row.update(timed_evaluations(sim, demag, "step"))
    row["rss_MiB"] = rss_mib()
    row["Mentries_per_s_core"] = (nb * nb / row["B_s"] / COMM.size / 1e6) if method == "dense" \
        else float("nan")
    return row


HEADER = ("| shape | B | N | Nb | B build s | Mentries/s/core | B MiB | B/dense | FEM+AMG s "
          "| eval new ms (cpu) | u1 / matvec / u2 ms | it | eval step ms (cpu) | it | RSS MiB |")


def format_row(r):
    return (f"| {r['shape']} | {r['method']} | {r['N']} | {r['Nb']} | {r['B_s']:.2f} | "
            f"{r['Mentries_per_s_core']:.1f} | {r['B_MiB']:.0f} | {r['B_ratio']:.3f} | "
            f"{r['fem_amg_s']:.2f} | {1e3 * r['new_wall']:.0f} ({1e3 * r['new_cpu']:.0f}) | "
            f"{1e3 * r['new_u1']:.0f} / {1e3 * r['new_matvec']:.0f} / {1e3 * r['new_u2']:.0f} | "
            f"{r['new_iterations'][0]}+{r['new_iterations'][1]} | "
            f"{1e3 * r['step_wall']:.0f} ({1e3 * r['step_cpu']:.0f}) | "
            f"{r['step_iterations'][0]}+{r['step_iterations'][1]} | {r['rss_MiB']:.0f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", default=["sphere", "film"], choices=list(SHAPES))
    parser.add_argument("--targets", nargs="+", type=int, default=[2000, 5000, 10000, 20000])
    parser.add_argument("--methods", nargs="+", default=["dense", "hmatrix"],
                        choices=["dense", "hmatrix"])
    parser.add_argument("--dense-max-nb", type=int, default=22000)
    parser.add_argument("--rtol", type=float, default=1e-10)
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    say(f"femag.Demag benchmark, {COMM.size} rank(s), {platform.machine()}, ksp_rtol="
        f"{args.rtol:g}, {time.strftime('%Y-%m-%d %H:%M')}, load average {load:.1f} on "
        f"{os.cpu_count()} cores\n")
    say(HEADER)
    say("|" + "---|" * (HEADER.count("|") - 1))
    rows = []
    for shape in args.shapes:
        for target in args.targets:
            t0 = time.perf_counter()
            mesh, _ = mesh_with_boundary_nodes(shape, target)
            mesh_time = time.perf_counter() - t0
            for method in args.methods:
                if method == "dense" and target > args.dense_max_nb:
                    continue
                row = dict(shape=shape, **run_case(mesh, mesh_time, method, args))
                rows.append(row)
                say(format_row(row))
            del mesh
    if args.json and COMM.rank == 0:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
