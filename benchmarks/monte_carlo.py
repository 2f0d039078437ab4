"""Benchmark and thorough validation of the atomistic Monte Carlo (femag.atomistic).

Run by hand, serially or on several ranks (the temperatures of each scan are shared
among the ranks; the spin-flip rates are measured on every rank at once and reported
per CPU-second of each process — the per-core rate even on a shared machine — and
per wall-clock second):

    .venv/bin/python benchmarks/monte_carlo.py
    mpirun --allow-run-as-root -n 2 .venv/bin/python benchmarks/monte_carlo.py
    .venv/bin/python benchmarks/monte_carlo.py --quick      # smaller, for a smoke test

It measures
1. spin-flip attempts per second per core (Heisenberg uniform/adaptive, XY, Ising;
   sc L = 16 and 32) — the target is ≥ 1e7/s for Heisenberg;
2. the Curie temperatures from Binder crossings with more sizes and sweeps than the
   tests: 2D Ising (L = 16, 32, 64) vs Onsager, classical Heisenberg on sc
   (L = 8, 12, 16) vs 1.4430, bcc (L = 6, 10) vs 2.054, fcc (L = 4, 8) vs 3.18 (units
   J/k_B);
3. Mermin–Wagner: m(L) of the 2D Heisenberg, XY and Ising models for L = 8 … 64.
Prints markdown tables (rank 0) and optionally writes JSON (--json FILE).
"""
from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
from mpi4py import MPI

from femag import atomistic as at

COMM = MPI.COMM_WORLD


def say(*args):
    if COMM.rank == 0:
        print(*args, flush=True)


def rates(quick):
    """Attempts per second per core for each model (all ranks run at once)."""
    out = []
    cases = [("heisenberg", "uniform", 1.443), ("heisenberg", "adaptive", 1.443),
             ("xy", "uniform", 2.2), ("ising", "uniform", 4.5)]
    sizes = (16,) if quick else (16, 32)
    for L in sizes:
        for model, move, T in cases:
            mc = at.MonteCarlo("sc", L, model, seed=COMM.rank, move=move)
            mc.sweep(T, 20)
            sweeps = max(20, int(2e7 // mc.N) if not quick else int(3e6 // mc.N))
            COMM.Barrier()
            t0, c0 = time.perf_counter(), time.process_time()
            mc.sweep(T, sweeps)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            r_all = COMM.allgather((mc.N * sweeps / wall, mc.N * sweeps / cpu))
            out.append(dict(lattice="sc", L=L, model=model, move=move, T=T,
                            rate_wall_mean=float(np.mean([r[0] for r in r_all])),
                            rate_cpu_mean=float(np.mean([r[1] for r in r_all])),
                            rate_cpu_min=min(r[1] for r in r_all), ranks=COMM.size))
    return out


def tc_runs(quick):
    onsager = at.onsager_tc()
    ref = at.CLASSICAL_TC_OVER_J
    if quick:
        cases = [("square", "ising", (8, 16), onsager, 0.02, 5, 20000),
                 ("sc", "heisenberg", (6, 12), ref["sc"], 0.02, 5, 10000)]
    else:
        cases = [("square", "ising", (16, 32, 64), onsager, 0.015, 7, 200000),
                 ("sc", "heisenberg", (8, 12, 16), ref["sc"], 0.015, 7, 100000),
                 ("bcc", "heisenberg", (6, 10), ref["bcc"], 0.02, 7, 40000),
                 ("fcc", "heisenberg", (4, 8), ref["fcc"], 0.02, 7, 40000)]
    out = []
    for lat, model, sizes, tref, half, npts, sweeps in cases:
        t0 = time.perf_counter()
        T = tref * np.linspace(1 - half, 1 + half, npts)
        r = at.curie_temperature(lat, sizes, T, model=model, sweeps=sweeps, seed=17,
                                 comm=COMM)
        dt = time.perf_counter() - t0
        out.append(dict(lattice=lat, model=model, sizes=list(sizes), sweeps=sweeps,
                        reference=tref, Tc=r.Tc, Tc_err=r.Tc_err,
                        rel_dev=r.Tc / tref - 1, crossings=[list(c) for c in r.crossings],
                        seconds=dt))
    return out


def mermin_wagner(quick):
    sizes = (8, 16, 32) if quick else (8, 16, 32, 64)
    out = []
    for model, T, move in (("heisenberg", 0.3, "adaptive"), ("xy", 0.3, "adaptive"),
                           ("ising", 2.0, "uniform")):
        # share the sizes among ranks
        mine = {}
        for i, L in enumerate(sizes):
            if i % COMM.size == COMM.rank:
                s = at.MonteCarlo("square", L, model, seed=L, move=move).sample(
                    T, 8000 if quick else 40000, thermalise=4000 if quick else 20000)
                mine[L] = (s.m, s.m_err)
        res = {}
        for part in COMM.allgather(mine):
            res.update(part)
        out.append(dict(model=model, T=T, m={L: res[L] for L in sizes}))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", default=None)
    ap.add_argument("--skip", nargs="*", default=[], choices=["rates", "tc", "mw"])
    args = ap.parse_args()
    say(f"# femag Monte Carlo benchmark ({platform.processor() or platform.machine()}, "
        f"{COMM.size} rank(s))")
    result = {"ranks": COMM.size, "quick": args.quick}
    if "rates" not in args.skip:
        result["rates"] = rates(args.quick)
        say("\n| model | move | lattice | L | attempts/s per core, CPU time (mean, min) |"
            " attempts/s per rank, wall time |")
        say("|---|---|---|---|---|---|")
        for r in result["rates"]:
            say(f"| {r['model']} | {r['move']} | {r['lattice']} | {r['L']} | "
                f"{r['rate_cpu_mean']:.3g}, {r['rate_cpu_min']:.3g} | "
                f"{r['rate_wall_mean']:.3g} |")
    if "tc" not in args.skip:
        result["tc"] = tc_runs(args.quick)
        say("\n| model | lattice | sizes | sweeps | Tc (J/k_B) | reference | deviation |"
            " pairwise crossings | time (s) |")
        say("|---|---|---|---|---|---|---|---|---|")
        for r in result["tc"]:
            cr = "; ".join(f"{a}/{b}: {t:.4f}±{e:.4f}" for a, b, t, e in r["crossings"])
            say(f"| {r['model']} | {r['lattice']} | {r['sizes']} | {r['sweeps']} | "
                f"{r['Tc']:.4f} ± {r['Tc_err']:.4f} | {r['reference']:.4f} | "
                f"{100 * r['rel_dev']:+.2f} % | {cr} | {r['seconds']:.0f} |")
    if "mw" not in args.skip:
        result["mermin_wagner"] = mermin_wagner(args.quick)
        say("\n| model (2D square) | T (J/k_B) | m(L) |")
        say("|---|---|---|")
        for r in result["mermin_wagner"]:
            ms = ", ".join(f"L={L}: {m:.4f}±{e:.4f}" for L, (m, e) in r["m"].items())
            say(f"| {r['model']} | {r['T']} | {ms} |")
    if args.json and COMM.rank == 0:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1, default=float)


if __name__ == "__main__":
    main()
