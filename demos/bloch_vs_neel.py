"""Bloch or Néel? The 180° wall in permalloy films of thickness 2–80 nm, with full demag.

Permalloy: Ms = 8.6e5 A/m, A = 1.3e-11 J/m, plus a small in-plane uniaxial anisotropy
Ku = 500 J/m³ along y (Q = 2Ku/(μ0Ms²) = 1.1e-3, an induced anisotropy of the size
found in real permalloy films) that defines the 180° wall: domains ±y, wall normal x,
film normal z. Sample: a film strip Lx × Ly × t (x across the wall, y along it).

For every thickness the wall is started as a Bloch wall (m through +z at the film's
mid-plane, with LaBonte-type surface caps that fix its sense, see :func:`bloch_start`) and
as a Néel wall (m through +x, in the plane), each relaxed with exchange, anisotropy and
demag (sim.minimize), then measured with femag.walls:

* kind (bloch / neel / asymmetric), width Δ of the tanh fit of m_y, Néel angle ψ and
  coherence C over the central half of the strip (|y| < Ly/4), and the Bloch lines along
  the wall (:func:`line_diagnostics`);
* σ (J/m²) from local energy densities in the central half of the strip (|y| < Ly/4),
  relative to the domain energy density at both ends along x
  (:func:`femag.walls.local_energy_per_area`): the strip's y ends carry the domains'
  magnetic charges, which a uniform reference state would not share with the wall state;
  and the same over two windows 0.1 < |y|/Ly < 0.3 that leave out a line at the centre.

Outputs in out_dir: results.csv (one row per thickness and start), sigma.png (σ vs t for
both starts), one ParaView folder per relaxed wall, and crossover.txt: where the Néel
start stops being the lower-energy one. Run by hand:

    python demos/bloch_vs_neel.py            # full: 2, 5, 10, 20, 30, 40, 60, 80 nm (+ a
                                             # 30 nm check with Ly = 960 nm); see docs/walls.md for the cost
    python demos/bloch_vs_neel.py --resume   # continue an interrupted full run
    mpirun -n 2 python demos/bloch_vs_neel.py --quick    # 5, 20, 40 nm, coarse mesh

Sizes and element sizes: :func:`sample`. ``run(thicknesses, h, out_dir, quick=True)``
is what ``make demo`` calls.
"""
from __future__ import annotations

import csv
import math
import os
import sys
import time

import numpy as np
from mpi4py import MPI

import femag
from femag import states, walls

MS, A, KU = 8.6e5, 1.3e-11, 500.0
L_EX = math.sqrt(2 * A / (femag.MU0 * MS ** 2))  # 5.3 nm
FULL_THICKNESSES = (2e-9, 5e-9, 10e-9, 20e-9, 30e-9, 40e-9, 60e-9, 80e-9)


def sample(t, quick):
    """Strip size (Lx, Ly) in m, in-plane element size h in m and element layers across
    the thickness for film thickness t (m).

    Full run (measured on one process of a shared 2-core machine: 0.5 s per minimiser
    iteration at 27k nodes, 150–2500 iterations per relaxation; ~80 min in all):
    t ≤ 10 nm: Lx = 400 nm (the thin-film Néel wall's tails: tanh width Δ ≈ 110 nm at
    2 nm), h = 5 nm in-plane, one element layer at 2 nm and two at 5 and 10 nm;
    t ≥ 20 nm: Lx = 240 nm (the walls are compact there, Δ ≈ 20 nm), h = 8 nm in-plane and
    ≤ 8 nm through the thickness (ceil(t/8 nm) layers) — coarser than l_ex = 5.3 nm, the
    price of the budget; FULL_CHECKS repeats 30 nm in a strip twice as long (Ly = 960 nm).
    Ly = 480 nm (the wall's length along y) for all."""
    if quick:
        return 160e-9, 240e-9, 8e-9, None
    if t <= 10e-9 + 1e-12:
        return 400e-9, 480e-9, 5e-9, 1 if t < 4e-9 else 2
    return 240e-9, 480e-9, 8e-9, math.ceil(t / 8e-9 - 1e-6)


def bloch_start(t, width, tilt=0.2, turn=0.8 * math.pi):
    """A Bloch wall (m ∥ +z at the wall centre) with LaBonte-type surface caps: the
    centre direction c = sin χ x̂ + cos χ ẑ turns through `turn` (rad) across the
    thickness, χ = turn·z/t + tilt (z from −t/2 to t/2, film centred at z = 0).

    Why not the symmetric Bloch wall: in films it is a saddle (its Néel and asymmetric
    distortions cost nothing to start), so a relaxation from it picks the sense of the
    distortion at random along the wall and leaves Bloch lines (measured in the quick run
    of docs/walls.md: C ≤ 0.24). The caps fix one sense of the asymmetric wall along the
    whole length; `tilt` (rad) breaks the up/down symmetry so that in films too thin for
    an asymmetric wall it unwinds into one Néel sense (+x) instead of splitting."""
    def centre(x):
        chi = turn * x[2] / t + tilt
        return np.array([np.sin(chi), 0 * chi, np.cos(chi)])
    return states.tanh_wall(normal=(1, 0, 0), m_left=(0, 1, 0), m_center=centre, width=width)


def relax_wall(mesh, start, t, comm, tol, max_iterations=6000):
    mat = femag.Material(Ms=MS, A=A, Ku=KU, axis=(0, 1, 0), alpha=0.5)
    sim = femag.Simulation(mesh, mat, name=f"{start}_{t * 1e9:g}nm")
    sim.add(femag.Exchange(), femag.UniaxialAnisotropy(), femag.Demag())
    width = max(2 * L_EX, t / 2)
    if start == "bloch":
        sim.m = bloch_start(t, width)
    else:
        sim.m = states.neel_wall(normal=(1, 0, 0), easy_axis=(0, 1, 0), width=width)
    begin = time.perf_counter()
    try:
        result = sim.minimize(tol=tol, max_iterations=max_iterations)
        converged = True
    except femag.MinimizationError as err:  # keep the state reached and say so
        if comm.rank == 0:
            print(f"  {start} t = {t * 1e9:g} nm: {err}", flush=True)
        result, converged = None, False
    return sim, result, converged, time.perf_counter() - begin


def line_diagnostics(sim, info, Ly, slice_width=20e-9):
    """Tell Bloch lines along the wall from a rotation plane that turns through the
    thickness (both lower the coherence C of femag.walls.analyze).

    The wall centre (weights g = w sech²((x − s0)/Δ)) is cut into slices of
    `slice_width` (m) along y. Returns (C_slice, lines, lines_central): C_slice =
    Σ_slices |Σ g T| / Σ g |T|, the coherence inside the slices (near 1 for a wall with
    Bloch lines between coherent segments, < 0.85 for LaBonte's asymmetric wall), and
    the number of places along y where the slice-averaged transverse magnetisation of
    neighbouring slices turns by more than 90° (Bloch/Néel lines), over the whole
    length and within |y| < Ly/4, and ψ_slice (rad): the Néel angle of each slice's
    averaged transverse magnetisation, averaged over the slices in |y| < Ly/4 with the
    weights |Σ g T| (ψ of the whole centre means little when segments of opposite
    sense cancel)."""
    x, w, m = walls.nodal_data(sim)
    return _line_diagnostics(x, w, m, info.position, info.width, info.domain_axis, info.normal,
                             Ly, slice_width)


def _line_diagnostics(x, w, m, s0, delta, u, n, Ly, slice_width=20e-9):
    """:func:`line_diagnostics` from nodal arrays x (N, 3) m, lumped volumes w (N,) m³,
    m (N, 3), the wall centre s0 and width Δ (m), domain axis u and normal n."""
    g = w / np.cosh(np.clip((x @ n - s0) / delta, -50, 50)) ** 2
    T = m - np.outer(m @ u, u)
    edges = np.arange(-Ly / 2, Ly / 2 + slice_width / 2, slice_width)
    idx = np.clip(np.digitize(x[:, 1], edges) - 1, 0, len(edges) - 2)
    sums = np.zeros((len(edges) - 1, 3))
    np.add.at(sums, idx, g[:, None] * T)
    norms = np.zeros(len(edges) - 1)
    np.add.at(norms, idx, g * np.linalg.norm(T, axis=1))
    c_slice = float(np.linalg.norm(sums, axis=1).sum() / max(norms.sum(), 1e-300))
    centres = 0.5 * (edges[1:] + edges[:-1])
    turns = np.einsum("ij,ij->i", sums[1:], sums[:-1]) < 0
    between = 0.5 * (centres[1:] + centres[:-1])
    b = np.cross(n, u)
    psi = np.arctan2(np.abs(sums @ n), np.abs(sums @ (b / np.linalg.norm(b))))
    weight = np.linalg.norm(sums, axis=1) * (np.abs(centres) < Ly / 4)
    psi_slice = float(np.sum(weight * psi) / max(weight.sum(), 1e-300))
    return c_slice, int(turns.sum()), int(turns[np.abs(between) < Ly / 4].sum()), psi_slice


def structure(c_slice, lines, psi_slice):
    """A label for the relaxed wall from :func:`line_diagnostics`: "asymmetric" when the
    rotation plane turns inside the slices (C_slice < 0.85: LaBonte-type), otherwise
    "neel"/"bloch" by ψ_slice ≶ 45°, with "+ k line(s)" for Bloch lines in |y| < Ly/4."""
    if c_slice < walls.COHERENCE_THRESHOLD:
        label = "asymmetric"
    else:
        label = "neel" if psi_slice > math.pi / 4 else "bloch"
    return label + (f" + {lines} line{'s' if lines > 1 else ''}" if lines else "")


def measure(sim, Ly):
    """(info, σ, line diagnostics, segment) of the relaxed wall.

    info and σ (J/m²) over the central half |y| < Ly/4 of the strip; segment = (info, σ)
    over the two windows 0.1 Ly < |y| < 0.3 Ly, which leave out a Bloch line or vortex at
    the strip's centre (where flux-closure states of thick strips put it) and the
    closure structures at the charged y ends."""
    def central(x):  # the wall away from the strip's charged y ends
        return np.abs(x[:, 1]) < Ly / 4

    def windows(x):
        return (np.abs(x[:, 1]) > 0.1 * Ly) & (np.abs(x[:, 1]) < 0.3 * Ly)
    info = walls.analyze(sim, normal=(1, 0, 0), easy_axis=(0, 1, 0), mask=central)
    sigma = walls.local_energy_per_area(sim, normal=(1, 0, 0), mask=central)
    segment = (walls.analyze(sim, normal=(1, 0, 0), easy_axis=(0, 1, 0), mask=windows),
               walls.local_energy_per_area(sim, normal=(1, 0, 0), mask=windows))
    return info, sigma, line_diagnostics(sim, info, Ly), segment


def crossover(rows, rel_tol=0.01):
    """Where the Néel start stops being the lower-energy wall.

    rows: one "bloch" and one "neel" row per thickness (keys t_nm, start, kind,
    sigma_J_m2, structure). With d(t) = σ_Néel − σ_Bloch, the Néel start is lower where
    it is still a Néel wall and d < −rel_tol·σ_Bloch, equal within rel_tol (e.g. both
    unwound into the Néel wall, or both ended in the asymmetric wall) otherwise, unless
    d > rel_tol·σ_Bloch. Returns (t_cross in m or None, (t_lo, t_hi) in m or None, how):
    a linear interpolation of d between the last "lower" thickness and a following one
    where the Néel start is higher ("crossing"), or only the bracket when the Néel start
    goes straight from lower to the same asymmetric wall as the Bloch start
    ("instability": the symmetric Néel wall stops being metastable there)."""
    by_t = {}
    for r in rows:
        by_t.setdefault(r["t_nm"], {})[r["start"]] = r
    ts = sorted(t for t, pair in by_t.items() if len(pair) == 2)
    state = []
    for t in ts:
        b, n = by_t[t]["bloch"], by_t[t]["neel"]
        d = n["sigma_J_m2"] - b["sigma_J_m2"]
        tol = rel_tol * abs(b["sigma_J_m2"])
        neel = str(n.get("structure") or n["kind"]).startswith("neel")
        state.append((t, d, "lower" if d < -tol and neel else ("higher" if d > tol else "equal")))
    for (t0, d0, s0), (t1, d1, s1) in zip(state, state[1:]):
        if s0 == "lower" and s1 != "lower":
            if s1 == "higher":
                tc = t0 + (t1 - t0) * (-d0) / (d1 - d0)
                return tc * 1e-9, (t0 * 1e-9, t1 * 1e-9), "crossing"
            return None, (t0 * 1e-9, t1 * 1e-9), "instability"
    return None, None, "none"


def plot(rows, filename, cross=None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    kinds = {"neel": "tab:blue", "bloch": "tab:green", "asymmetric": "tab:red"}
    for start, marker, line in (("bloch", "o", "-"), ("neel", "s", "--")):
        sel = sorted((r for r in rows if r["start"] == start and not r.get("check")),
                     key=lambda r: r["t_nm"])
        ax.plot([r["t_nm"] for r in sel], [r["sigma_J_m2"] * 1e3 for r in sel], line,
                color="0.5", lw=1, zorder=1)
        for r in sel:
            label = str(r.get("structure") or r["kind"])
            colour = kinds.get(label.split()[0], "k")
            ax.scatter(r["t_nm"], r["sigma_J_m2"] * 1e3, marker=marker, s=40 if start == "neel" else 70,
                       facecolors="none" if start == "bloch" else colour, edgecolors=colour, zorder=2)
            if "line" in label:
                ax.scatter(r["t_nm"], r["sigma_J_m2"] * 1e3, marker="+", s=40, color="k", zorder=3)
        ax.scatter([], [], marker=marker, facecolors="none" if start == "bloch" else "0.5",
                   edgecolors="0.5", label=f"started as {'Bloch (LaBonte seed)' if start == 'bloch' else 'Néel'}")
    for kind, colour in kinds.items():
        ax.plot([], [], "o", color=colour, label=f"relaxed: {kind}")
    ax.scatter([], [], marker="+", color="k", label="with a Bloch line in |y| < Ly/4")
    for start, marker in (("bloch", "o"), ("neel", "s")):
        sel = sorted((r for r in rows if r["start"] == start and not r.get("check")
                      and np.isfinite(r.get("segment_sigma_J_m2", float("nan")))),
                     key=lambda r: r["t_nm"])
        if sel:
            ax.plot([r["t_nm"] for r in sel], [r["segment_sigma_J_m2"] * 1e3 for r in sel],
                    marker=marker, ls=":", color="0.35", ms=4, lw=0.8, mfc="none",
                    label=f"{start} start, σ in the windows 0.1 < |y|/Ly < 0.3")
    checks = [r for r in rows if r.get("check")]
    for r in checks:
        ax.scatter(r["t_nm"], r["sigma_J_m2"] * 1e3, marker="x", color="k", zorder=3)
    if checks:
        ax.scatter([], [], marker="x", color="k",
                   label=f"check: Ly = {checks[0]['Ly_nm']:.0f} nm, h = {checks[0]['h_nm']:g} nm")
    if cross is not None:
        tc, bracket, how = cross
        if bracket is not None:
            ax.axvspan(bracket[0] * 1e9, bracket[1] * 1e9, color="0.9", zorder=0,
                       label="crossover bracket")
        if tc is not None:
            ax.axvline(tc * 1e9, color="k", ls=":", lw=1, label=f"crossover {tc * 1e9:.0f} nm")
    ax.set_xlabel("film thickness t (nm)")
    ax.set_ylabel("wall energy σ (mJ/m²)")
    ax.set_title("180° wall in permalloy films (Ku = 500 J/m³ in-plane, full demag)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(filename, dpi=120)
    plt.close(fig)


def write_csv(rows, filename):
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with open(filename, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _case_key(t_nm, start, Lx_nm, Ly_nm, h_nm, layers, check, tol):
    return (round(float(t_nm), 6), start, round(float(Lx_nm), 6), round(float(Ly_nm), 6),
            round(float(h_nm), 6), int(layers), str(check) == "True", round(float(tol), 6))


def _previous_rows(filename, comm):
    """{case key: row} from an earlier results.csv (numbers converted back), on all ranks."""
    rows = {}
    if comm.rank == 0 and os.path.exists(filename):
        with open(filename, newline="") as fh:
            for r in csv.DictReader(fh):
                if not r.get("tol_A_m"):
                    continue
                row = {}
                for k, v in r.items():
                    if k in ("start", "kind", "segment_kind", "structure"):
                        row[k] = v
                    elif v == "":
                        row[k] = float("nan")  # a column added after this row was run
                    elif k in ("check", "converged"):
                        row[k] = v == "True"
                    else:
                        row[k] = float(v)
                for k in ("iterations", "lines", "lines_central", "layers", "nodes"):
                    row[k] = int(row[k])
                rows[_case_key(row["t_nm"], row["start"], row["Lx_nm"], row["Ly_nm"], row["h_nm"],
                               row["layers"], row["check"], row["tol_A_m"])] = row
    return comm.bcast(rows, root=0)


def reanalyze(out_dir, comm=MPI.COMM_WORLD):
    """Recompute :func:`line_diagnostics` and :func:`structure` for every row of
    out_dir/results.csv from the saved relaxed states (the ParaView folders: nodes, tetrahedra
    and m; lumped nodal volumes from the tetrahedra, the wall centre and width from a tanh fit
    of m_y over |y| < Ly/4), for rows written before those columns existed; rewrites
    results.csv, sigma.png and crossover.txt. Serial work, repeated on every rank."""
    rows = list(_previous_rows(os.path.join(out_dir, "results.csv"), comm).values())
    n, u = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    for row in rows:
        Ly = row["Ly_nm"] * 1e-9
        grid = femag.load(os.path.join(out_dir, _tag(row["start"], row["t_nm"], row["check"],
                                                     row["h_nm"], row["Ly_nm"]))).mesh(-1)
        x, m = np.asarray(grid.points), np.asarray(grid.point_data["m"])
        tets = grid.cells.reshape(-1, 5)[:, 1:]
        p = x[tets]
        vol = np.abs(np.einsum("ij,ij->i", p[:, 1] - p[:, 0],
                               np.cross(p[:, 2] - p[:, 0], p[:, 3] - p[:, 0]))) / 6
        w = np.zeros(len(x))
        np.add.at(w, tets.ravel(), np.repeat(vol / 4, 4))
        keep = np.abs(x[:, 1]) < Ly / 4
        uu = u if np.mean(m[keep & (x[:, 0] < x[:, 0].min() + 0.1 * np.ptp(x[:, 0])), 1]) > 0 else -u
        s0, delta, _, _ = walls.fit_tanh(x[keep, 0], m[keep] @ uu, w[keep])
        c_slice, lines, lines_central, psi_slice = _line_diagnostics(x, w, m, s0, delta, uu, n, Ly)
        row.update(coherence_slice=c_slice, lines=lines, lines_central=lines_central,
                   neel_angle_slice_deg=math.degrees(psi_slice),
                   structure=structure(c_slice, lines_central, psi_slice))
    rows.sort(key=lambda r: (r["check"], r["t_nm"], r["start"]))
    summarize(rows, out_dir, comm)
    return rows


def summarize(rows, out_dir, comm=MPI.COMM_WORLD):
    """results.csv, sigma.png and crossover.txt in out_dir from the rows (rank 0 writes)."""
    cross = crossover([r for r in rows if not r["check"]])
    cross_segment = crossover([dict(r, sigma_J_m2=r["segment_sigma_J_m2"]) for r in rows
                               if not r["check"] and np.isfinite(r.get("segment_sigma_J_m2", float("nan")))])
    if comm.rank == 0:
        write_csv(rows, os.path.join(out_dir, "results.csv"))
        plot(rows, os.path.join(out_dir, "sigma.png"), cross)
        tc, bracket, how = cross
        if how == "crossing":
            text = (f"crossover (Néel start no longer lower): t ≈ {tc * 1e9:.1f} nm "
                    f"(between {bracket[0] * 1e9:g} and {bracket[1] * 1e9:g} nm)")
        elif how == "instability":
            text = (f"crossover between {bracket[0] * 1e9:g} and {bracket[1] * 1e9:g} nm: the Néel "
                    f"start is lower at the first and relaxes into the same wall as the Bloch "
                    f"start at the second")
        else:
            text = "no crossover inside the thickness range"
        tc, bracket, how = cross_segment
        if bracket is not None:
            text += (f"\nwith σ from the windows 0.1 < |y|/Ly < 0.3 (no central line): {how} between "
                     f"{bracket[0] * 1e9:g} and {bracket[1] * 1e9:g} nm"
                     + (f", t ≈ {tc * 1e9:.1f} nm" if tc is not None else ""))
        print(text, flush=True)
        with open(os.path.join(out_dir, "crossover.txt"), "w") as fh:
            fh.write(text + "\n")


#: the full run's check: t (m), in-plane h (m), element layers, Lx (m), Ly (m)
FULL_CHECKS = ((30e-9, 8e-9, 4, 240e-9, 960e-9),)


def _tag(start, t_nm, check, h_nm, Ly_nm):
    """Name of the ParaView folder of one relaxed wall."""
    return f"{start}_t{t_nm:g}nm" + (f"_h{h_nm:g}nm_Ly{Ly_nm:.0f}nm" if check else "")


def run(thicknesses=FULL_THICKNESSES, h=None, out_dir="out/bloch_vs_neel", quick=True,
        comm=MPI.COMM_WORLD, tol=None, checks=(), max_iterations=None, resume=False):
    """Relax Bloch- and Néel-started walls for each film thickness (m); returns the rows.

    h: in-plane element size in m (default by `quick`, see :func:`sample`); tol:
    minimiser torque in A/m (default 50 quick, 5 full); checks: extra (t, h, layers, Lx, Ly)
    cases in m (checks of the sample size or mesh, not used for the crossover); max_iterations: per
    relaxation (default 6000 quick, 2500 full; a relaxation that reaches it is kept and
    marked converged = False); resume: reuse the rows of an earlier results.csv in out_dir
    whose case (t, start, Lx, Ly, h, layers, check, tol) matches — an interrupted run
    continues where it stopped."""
    tol = tol or (50.0 if quick else 5.0)
    max_iterations = max_iterations or (6000 if quick else 2500)
    os.makedirs(out_dir, exist_ok=True) if comm.rank == 0 else None
    comm.barrier()
    cases = [(t,) + sample(t, quick) + (False,) for t in thicknesses]
    cases += [(t, Lx, Ly, hc, layers, True) for t, hc, layers, Lx, Ly in checks]
    rows = []
    done = _previous_rows(os.path.join(out_dir, "results.csv"), comm) if resume else {}
    for t, Lx, Ly, h_case, layers, check in cases:
        h_used = h_case if (check or h is None) else h
        n_layers = layers or math.ceil(t / h_used - 1e-6)
        keys = {start: _case_key(t * 1e9, start, Lx * 1e9, Ly * 1e9, h_used * 1e9, n_layers, check, tol)
                for start in ("bloch", "neel")}
        if all(k in done for k in keys.values()):
            rows += [done[keys["bloch"]], done[keys["neel"]]]
            if comm.rank == 0:
                print(f"t = {t * 1e9:5.1f} nm: both starts taken from the earlier results.csv", flush=True)
            continue
        mesh = femag.geometries.box(Lx, Ly, t, h=h_used, layers=layers, comm=comm)
        nodes = mesh.mesh.topology.index_map(0).size_global
        for start in ("bloch", "neel"):
            if keys[start] in done:
                rows.append(done[keys[start]])
                continue
            sim, result, converged, seconds = relax_wall(mesh, start, t, comm, tol, max_iterations)
            info, sigma, (c_slice, lines, lines_central, psi_slice), (seg, sigma_seg) = measure(sim, Ly)
            tag = _tag(start, t * 1e9, check, h_used * 1e9, Ly * 1e9)
            sim.save(os.path.join(out_dir, tag), overwrite=True)
            row = {"t_nm": t * 1e9, "start": start, "kind": info.kind,
                   "sigma_J_m2": sigma, "sigma_uniform_ref_J_m2": info.energy_per_area,
                   "width_nm": info.width * 1e9, "neel_angle_deg": math.degrees(info.neel_angle),
                   "coherence": info.coherence, "coherence_slice": c_slice,
                   "lines": lines, "lines_central": lines_central,
                   "neel_angle_slice_deg": math.degrees(psi_slice),
                   "structure": structure(c_slice, lines_central, psi_slice),
                   "segment_kind": seg.kind, "segment_sigma_J_m2": sigma_seg,
                   "segment_width_nm": seg.width * 1e9,
                   "segment_neel_angle_deg": math.degrees(seg.neel_angle),
                   "segment_coherence": seg.coherence, "converged": converged,
                   "iterations": result.iterations if result else max_iterations,
                   "seconds": seconds, "Lx_nm": Lx * 1e9, "Ly_nm": Ly * 1e9,
                   "h_nm": h_used * 1e9, "layers": n_layers,
                   "nodes": nodes, "check": check, "tol_A_m": tol}
            rows.append(row)
            if comm.rank == 0:
                print(f"t = {t * 1e9:5.1f} nm  start {start:5s} -> {row['structure']:14s} "
                      f"(analyze: {info.kind}) "
                      f"σ = {sigma * 1e3:7.4f} mJ/m²  Δ = {info.width * 1e9:6.2f} nm  "
                      f"ψ = {row['neel_angle_deg']:5.1f}°  C = {info.coherence:.2f}  C_slice = {c_slice:.2f}  "
                      f"lines {lines_central}/{lines}  segment: {seg.kind} σ = {sigma_seg * 1e3:.4f} "
                      f"C = {seg.coherence:.2f} ψ = {math.degrees(seg.neel_angle):.1f}°  "
                      f"[{nodes} nodes, h = {h_used * 1e9:g} nm, {row['layers']} layers, "
                      f"{row['iterations']} it{'' if converged else ' NOT CONVERGED'}, "
                      f"{seconds:.0f} s]", flush=True)
                write_csv(rows, os.path.join(out_dir, "results.csv"))  # partial results survive
    summarize(rows, out_dir, comm)
    return rows


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    if "--reanalyze" in sys.argv:
        reanalyze("out/bloch_vs_neel_quick" if quick else "out/bloch_vs_neel")
    elif quick:
        run(thicknesses=(5e-9, 20e-9, 40e-9), quick=True, out_dir="out/bloch_vs_neel_quick")
    else:
        run(thicknesses=FULL_THICKNESSES, quick=False, checks=FULL_CHECKS,
            out_dir="out/bloch_vs_neel", resume="--resume" in sys.argv)
