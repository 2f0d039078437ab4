"""The SP#4 figure of docs/llg.md from finished (or partial) demo run folders.

    .venv/bin/python benchmarks/sp4_figure.py --runs out/sp4_h25 out/sp4_l3 \\
        --labels "h = 2.5 nm × 3 layers" "h = 5 nm × 3 layers" --out docs/img/sp4.png

Each run folder holds field1/table.csv and/or field2/table.csv (written by demos/sp4.py
as the run goes, so a cut run still plots up to where it stopped). Prints, per run and
field, max |Δ⟨m⟩| against each reference over the simulated span and the first ⟨mx⟩
zero crossings.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "demos"))
import sp4  # noqa: E402


def read_table(path):
    """(t (s), ⟨m⟩ (n, 3)) from a femag table.csv."""
    data = np.genfromtxt(path, delimiter=",", names=True)
    return data["t_s"], np.stack([data["mx"], data["my"], data["mz"]], axis=1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", nargs="+", required=True, help="demo output folders")
    ap.add_argument("--labels", nargs="+", required=True, help="one legend label per run")
    ap.add_argument("--t-end", type=float, default=1e-9, help="plotted span (s)")
    ap.add_argument("--out", default="docs/img/sp4.png")
    args = ap.parse_args(argv)
    if len(args.labels) != len(args.runs):
        ap.error("give one label per run folder")
    curves = {}
    for run, label in zip(args.runs, args.labels):
        for field in (1, 2):
            path = os.path.join(run, f"field{field}", "table.csv")
            if not os.path.isfile(path):
                continue
            t, m = read_table(path)
            curves.setdefault(field, []).append((t, m, label))
            for name in ("oommf_2.5nm", "oommf_5nm", "magnumnp_5nm"):
                c = sp4.compare(t, m, field, name=name)
                print(f"{label}, field {field}, 0–{t[-1] * 1e9:.3f} ns vs {name}: max |Δmx, Δmy, Δmz| = "
                      f"{', '.join(f'{v:.3f}' for v in c['max_dm'])}; first mx = 0 at "
                      f"{c['crossing'] * 1e12:.1f} ps (reference {c['crossing_ref'] * 1e12:.1f} ps, "
                      f"{100 * (c['crossing'] / c['crossing_ref'] - 1):+.2f} %)")
    sp4.plot(curves, args.out, args.t_end)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
