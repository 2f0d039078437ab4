"""Shared pieces of the curved-geometry wall demos: permalloy, a relaxation helper, the
trap field that holds a head-to-head wall in a finite sample, and CSV/plot helpers.

Why a trap: a head-to-head wall carries the magnetic charge 2Q = 2 Ms·a (a: the
cross-section, m²) and the two ends of its sample −Q each, so the ends attract it and
its centred position is an unstable equilibrium. The minimiser finds the instability:
a 10/5 nm × 150 nm permalloy tube relaxed from a transverse wall at its centre ends
single-domain (⟨m_z⟩ = 0.998, measured). The trap H = −G s t̂ (s: distance from the
sample's middle along it, t̂: the direction along it) points along the domain
magnetisation on both sides and vanishes at the wall centre; it adds the restoring
stiffness 2μ0 Q G to the wall's position.
"""
from __future__ import annotations

import csv
import math
import os
import time
from types import SimpleNamespace

import numpy as np

import femag
from femag.material import MU0
from femag.minimize import MinimizationError

#: Permalloy (Ms in A/m, A in J/m), no crystal anisotropy.
PERMALLOY = femag.Material(Ms=8.6e5, A=1.3e-11, alpha=0.5)
#: Exchange length sqrt(2A/(μ0 Ms²)) of PERMALLOY in m (5.3 nm).
EXCHANGE_LENGTH = math.sqrt(2 * PERMALLOY.A / (MU0 * PERMALLOY.Ms ** 2))


def relaxed(mesh, m0, tol=20.0, material=PERMALLOY, max_iterations=10000, terms=()):
    """A Simulation with exchange + demag (+ `terms`) relaxed from m0 by sim.minimize to
    max |m × H_eff| < `tol` (A/m).

    A run that reaches `max_iterations` first is not hidden: it keeps the state reached,
    prints a line, and ``sim.relaxation.converged`` is False. ``sim.relaxation`` also
    holds iterations, torque (A/m) and seconds (wall time)."""
    sim = femag.Simulation(mesh, material)
    sim.add(femag.Exchange(), femag.Demag(), *terms)
    sim.m = m0
    start = time.perf_counter()
    try:
        result = sim.minimize(tol=tol, max_iterations=max_iterations)
        sim.relaxation = SimpleNamespace(converged=True, iterations=result.iterations,
                                         torque=result.torque)
    except MinimizationError as err:
        sim.relaxation = SimpleNamespace(converged=False, iterations=max_iterations,
                                         torque=sim.torque())
        if sim.comm.rank == 0:
            print(f"NOT CONVERGED: {err}", flush=True)
    sim.relaxation.seconds = time.perf_counter() - start
    return sim


def perturbed(m0, amplitude=0.05, wavelength=3e-9, seed=1):
    """m0 plus a fixed small pseudo-random perturbation (|δm| ≤ amplitude·√3), so that a
    symmetric start can leave a symmetric saddle point: a state that a perturbed start
    still relaxes to is a local minimum. The perturbation is a smooth function of the
    position (three sines of random directions, `wavelength` in m), so it is the same
    on any number of ranks. `m0`: a callable x (3, n) -> (3, n) or a 3-vector."""
    rng = np.random.default_rng(seed)
    k = rng.normal(size=(3, 3)) * (2 * np.pi / wavelength)
    phase = rng.uniform(0, 2 * np.pi, size=3)
    base = m0 if callable(m0) else femag.states.uniform(m0)
    return lambda x: base(x) + amplitude * np.sin(k @ x[:3] + phase[:, None])


def exchange_demag(sim):
    """E_exchange + E_demag in J (the energy without applied or trap fields)."""
    e = sim.energies()
    return e["exchange"] + e["demag"]


def trap_gradient(area, length, factor=3.0, Ms=PERMALLOY.Ms):
    """Trap gradient G (A/m²) = `factor` × the end charges' destabilising gradient.

    Point charges −Q at ±L/2 and 2Q at the wall give the wall (at distance δ from the
    middle) the energy −(μ0/4π)·2Q²(1/(L/2+δ) + 1/(L/2−δ)), of curvature −16μ0Q²/(πL³);
    the trap adds 2μ0QG, so G = factor · 8Q/(πL³) with Q = Ms·area."""
    return factor * 8 * Ms * area / (math.pi * length ** 3)


def end_interaction(area, length, radius=math.inf, Ms=PERMALLOY.Ms):
    """Point-charge estimate (J) of the part of E_wall that is the interaction with the
    sample's end charges, for a head-to-head wall in the middle of a strip or tube of
    cross-section `area` (m²) and length `length` (m), straight or bent to the mid-line
    radius `radius` (m): charges −Q, 2Q, −Q (wall state) against +Q, −Q (wall-free
    state) at the ends and the middle, Q = Ms·area, distances along chords:
    (μ0Q²/4π)(2/d_ee − 4/d_we). Straight: −6μ0Q²/(4πL). An estimate, not a measurement:
    the charges are spread over the cross-section and the wall width."""
    q = Ms * area
    if math.isinf(radius):
        d_we, d_ee = length / 2, length
    else:
        angle = length / radius
        d_we, d_ee = 2 * radius * math.sin(angle / 4), 2 * radius * math.sin(angle / 2)
    return MU0 * q ** 2 / (4 * math.pi) * (2 / d_ee - 4 / d_we)


def straight_trap(gradient, axis):
    """Trap field H(x) = −G (x·a) a (A/m) for a head-to-head wall (m = +a on the −a side)
    at the origin of a straight sample along the unit vector `axis`."""
    a = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    return femag.Zeeman(H=lambda x: -gradient * np.outer(a, a @ x[:3]), name="trap")


def arc_trap(gradient, radius):
    """Trap field H = −G R φ φ̂ (A/m) for the head-to-head wall at φ = 0 of an arc about
    the z axis with mid-line radius `radius` (m); φ̂ is the azimuthal unit vector."""
    def field(x):
        phi = np.arctan2(x[1], x[0])
        return -gradient * radius * phi * np.array([-np.sin(phi), np.cos(phi),
                                                    np.zeros_like(phi)])
    return femag.Zeeman(H=field, name="trap")


def wall_snapshot(sim, filename, axis, half_length, component="mx", title=None):
    """Glyph PNG of the part |x·axis| < half_length (m) around a wall at the origin
    (collective; rank 0 draws). The whole sample is in femag.plot.snapshot's pictures."""
    import femag.plot
    grid = femag.plot.grid_from_sim(sim)
    if sim.comm.rank == 0:
        a = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
        keep = np.nonzero(np.abs(grid.cell_centers().points @ a) < half_length)[0]
        femag.plot.render(grid.extract_cells(keep), filename, kind="glyphs",
                          component=component, title=title, max_arrows=2000)
    sim.comm.barrier()
    return filename


def ring_trap(gradient, radius):
    """Trap field H = −G R sin φ φ̂ (A/m) for the onion state of a ring about the z axis
    (mid-line radius `radius`, m) with its walls at φ = 0 and π and m = −φ̂ for y > 0,
    +φ̂ for y < 0 (femag.states.onion(direction=(1, 0, 0))): zero at both walls,
    along m in both halves, gradient G (A/m²) along the ring at the walls."""
    def field(x):
        phi = np.arctan2(x[1], x[0])
        return -gradient * radius * np.sin(phi) * np.array([-np.sin(phi), np.cos(phi),
                                                            np.zeros_like(phi)])
    return femag.Zeeman(H=field, name="trap")


def write_csv(path, rows):
    """Rows (dicts with the same keys) to a CSV file (rank 0 only)."""
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def record(comm, path, rows, line):
    """On rank 0: rewrite the CSV `path` with all `rows` so far and print `line`, so
    that a stopped run keeps its finished cases."""
    if comm.rank == 0:
        write_csv(path, rows)
        print(line, flush=True)


def read_csv(path):
    """Rows of a CSV written by write_csv, numbers as floats (to redraw a plot)."""
    def value(text):
        try:
            return float(text)
        except ValueError:
            return text
    with open(path, newline="") as fh:
        return [{k: value(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def relaxation_columns(sim, prefix=""):
    """{prefix+"converged", prefix+"iterations", prefix+"seconds"} of sim.relaxation."""
    r = sim.relaxation
    return {f"{prefix}converged": r.converged, f"{prefix}iterations": r.iterations,
            f"{prefix}seconds": r.seconds}


def pyplot():
    """matplotlib.pyplot with the file-only Agg backend."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def finish_plot(fig, ax, xlabel, ylabel, title, filename):
    """Labels, legend, grid; save `filename` (PNG, 110 dpi) and close."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(filename, dpi=110)
    fig.clf()


def out_dir_ready(out_dir, comm):
    if comm.rank == 0:
        os.makedirs(out_dir, exist_ok=True)
    comm.barrier()
