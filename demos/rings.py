"""Rings and curved strips (permalloy, full demag): onion versus vortex, walls on arcs.

Permalloy Ms = 8.6e5 A/m, A = 1.3e-11 J/m, thickness t = 10 nm, element size h = 5 nm
(two element layers across t).

1. Flat rings, outer radius 100 nm, widths w = 20, 40, 60 nm: the vortex state
   (flux-closed) and the onion state (a head-to-head and a tail-to-tail transverse wall)
   are relaxed from slightly perturbed starts (wall_common.perturbed). The onion's two
   walls attract each other; it is relaxed once free ("onion_free": where it goes) and
   once with its walls held by a trap field (wall_common.ring_trap, zero at the walls).
   Reported: E_exchange + E_demag (J) of the vortex and the trapped onion against w,
   which is lower, the circulation ⟨m·φ̂⟩ of every relaxed state (±1 vortex, about 0
   onion) and the vortex's exchange energy against 2πA t ln(R/r), the exchange of
   m = φ̂ (J).
2. A head-to-head transverse wall in a curved strip: width 40 nm, mid-line length 300 nm,
   mid-line radius R = 60, 120, 240 nm and a straight strip. The wall's centre points
   radially outward or inward (not equivalent on a curve; one case when straight). It is
   held at the strip's middle by a trap field (wall_common) and compared with the relaxed
   wall-free state that follows the strip:
   E_wall = (E_exchange + E_demag)(wall) − (E_exchange + E_demag)(follow), in J, against
   the curvature 1/R, and its exchange and demag parts. chiral_exchange (J): along the
   mid-line (arc length s, tangent T = φ̂, outward normal N = ρ̂) A|∂_s m|² has the
   cross term (2A/R)(m_N ∂_s m_T − m_T ∂_s m_N) = −(2A/R) ∂_s θ for
   m = cos θ T + sin θ N; over the wall's turn (θ: 0 → π outward, 0 → −π inward) it
   gives ∓2πA·a/R (a: cross-section), a first estimate of the splitting.
   E_ends (J): the point-charge estimate of the part of E_wall that is the interaction
   of the wall's charge with the strip's end charges (it changes with the bending
   because the ends come closer); E_wall − E_ends is the end-corrected estimate.
Output: out/rings/rings.csv, arcs.csv, ring_energy.png, arc_energy.png, glyph PNGs,
ParaView folders.

    python demos/rings.py              # rings and arcs
    python demos/rings.py --only arcs  # or --only rings
"""
from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
from mpi4py import MPI

import femag
import femag.plot
from femag import states, walls
from wall_common import (PERMALLOY, arc_trap, end_interaction, exchange_demag, finish_plot,
                         out_dir_ready,
                         perturbed, pyplot, record, relaxation_columns, relaxed, ring_trap,
                         straight_trap, trap_gradient)

H = 5e-9
THICKNESS = 10e-9


def azimuthal(x):
    """(φ (n,) rad, φ̂ (3, n), ρ̂ (3, n)) about the z axis at the nodes x (3, n)."""
    phi = np.arctan2(x[1], x[0])
    zero = np.zeros_like(phi)
    return (phi, np.array([-np.sin(phi), np.cos(phi), zero]),
            np.array([np.cos(phi), np.sin(phi), zero]))


def circulation(sim):
    """Volume-weighted ⟨m·φ̂⟩ about the z axis: +1 for the counter-clockwise vortex."""
    x, w, m = walls.nodal_data(sim)
    _, phi_hat, _ = azimuthal(x.T)
    return float(np.sum(w * np.einsum("ij,ji->i", m, phi_hat)) / np.sum(w))


def state_name(c):
    """Relaxed ring state from its circulation c = ⟨m·φ̂⟩."""
    if abs(c) > 0.95:
        return "vortex"
    return "onion" if abs(c) < 0.1 else "walls moved"


# --- 1. rings ---------------------------------------------------------------------
def rings(out_dir, comm, r_out=100e-9, widths=(20e-9, 40e-9, 60e-9)):
    """Per width: the vortex, the free onion (no trap) and the trapped onion."""
    rows = []
    for w in widths:
        r_in = r_out - w
        mesh = femag.geometries.ring(r_out, r_in, THICKNESS, h=H, comm=comm)
        # the onion's walls (charges ±2Q, 2R apart) attract: held by a trap whose
        # gradient is set as for a strip of length πR (half the mid-line)
        radius = r_out - w / 2
        gradient = trap_gradient(w * THICKNESS, math.pi * radius)
        onion = states.onion(direction=(1, 0, 0), wall_width=w / 2)
        row = {"width_nm": w * 1e9, "R_out_nm": r_out * 1e9, "R_in_nm": r_in * 1e9}
        for name, m0, terms in (("vortex", states.vortex(core_radius=1e-9), ()),
                                ("onion_free", onion, ()),
                                ("onion", onion, (ring_trap(gradient, radius),))):
            sim = relaxed(mesh, perturbed(m0), terms=terms)
            c = circulation(sim)
            tag = f"ring_w{w * 1e9:g}nm_{name}"
            femag.plot.snapshot(sim, os.path.join(out_dir, f"{tag}.png"), kind="glyphs",
                                component="mx", title=f"ring {r_out * 1e9:g}/{r_in * 1e9:g} nm, "
                                f"{name.replace('_', ' ')} start -> {state_name(c)}")
            sim.save(os.path.join(out_dir, tag), overwrite=True)
            e = sim.energies()
            row.update({f"E_{name}_J": exchange_demag(sim), f"E_{name}_exchange_J": e["exchange"],
                        f"E_{name}_demag_J": e["demag"], f"{name}_relaxed_to": state_name(c),
                        f"{name}_circulation": c, **relaxation_columns(sim, f"{name}_")})
        row["E_trap_J"] = e["trap"]
        row["H_trap_max_A_per_m"] = gradient * radius
        row["lower"] = "onion" if row["E_onion_J"] < row["E_vortex_J"] else "vortex"
        row["E_onion_minus_vortex_J"] = row["E_onion_J"] - row["E_vortex_J"]
        row["curling_exchange_J"] = 2 * math.pi * PERMALLOY.A * THICKNESS * math.log(r_out / r_in)
        rows.append(row)
        record(comm, os.path.join(out_dir, "rings.csv"), rows,
               f"ring w = {w * 1e9:g} nm: E_onion = {row['E_onion_J']:.4e} J (trapped, "
               f"{row['onion_relaxed_to']}, converged {row['onion_converged']}), "
               f"E_vortex = {row['E_vortex_J']:.4e} J ({row['vortex_relaxed_to']}), lower: "
               f"{row['lower']}; free onion -> {row['onion_free_relaxed_to']} "
               f"(⟨m·φ̂⟩ = {row['onion_free_circulation']:.2f}, E = "
               f"{row['E_onion_free_J']:.4e} J, converged {row['onion_free_converged']}); "
               f"vortex exchange {row['E_vortex_exchange_J']:.4e} J vs 2πAt ln(R/r) = "
               f"{row['curling_exchange_J']:.4e} J; {row['vortex_seconds']:.0f} s + "
               f"{row['onion_free_seconds']:.0f} s + {row['onion_seconds']:.0f} s")
    return rows


def plot_rings(rows, filename):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    w = [r["width_nm"] for r in rows]
    ax.plot(w, [r["E_onion_J"] for r in rows], "o-", color="tab:blue",
            label="onion (walls held by the trap)")
    ax.plot(w, [r["E_vortex_J"] for r in rows], "s-", color="tab:red", label="vortex")
    ax.plot(w, [r["curling_exchange_J"] for r in rows], ":", color="tab:red",
            label="2πA t ln(R/r) (exchange of m = φ̂)")
    ax.plot(w, [r["E_onion_free_J"] for r in rows], "x", color="k", markersize=8,
            label="onion start without trap (label: where it went)")
    for r in rows:
        ax.annotate(r["onion_free_relaxed_to"]
                    + ("" if str(r["onion_free_converged"]) == "True" else ", not converged"),
                    (r["width_nm"], r["E_onion_free_J"]), textcoords="offset points",
                    xytext=(6, -12), fontsize=8)
    finish_plot(fig, ax, "ring width w (nm)  [outer radius 100 nm, thickness 10 nm]",
                "E_exchange + E_demag (J)", "permalloy rings: relaxed onion and vortex states",
                filename)
    plt.close(fig)


# --- 2. a wall in a curved strip ------------------------------------------------------
def arc_wall(radius, width, core=1):
    """Head-to-head wall at φ = 0 of an arc about the z axis (mid-line radius `radius`, m):
    m = −tanh(s/Δ) φ̂ + core·sech(s/Δ) ρ̂ with s = R φ the arc length from the middle and
    Δ = `width` (m); core = +1 points the wall's centre outward, −1 inward."""
    def m(x):
        phi, phi_hat, rho_hat = azimuthal(x)
        s = radius * phi / width
        return -np.tanh(s) * phi_hat + core / np.cosh(s) * rho_hat
    return m


def arc_wall_fit(sim, radius):
    """(s0, Δ) in m: tanh fit m·φ̂ = c0 − c1 tanh((s − s0)/Δ) along the arc length s = Rφ."""
    x, w, m = walls.nodal_data(sim)
    phi, phi_hat, _ = azimuthal(x.T)
    s0, delta, _, _ = walls.fit_tanh(radius * phi, np.einsum("ij,ji->i", m, phi_hat), w)
    return s0, delta


def arcs(out_dir, comm, width=40e-9, length=300e-9, radii=(60e-9, 120e-9, 240e-9)):
    rows = []
    area = width * THICKNESS
    gradient = trap_gradient(area, length)
    for radius in list(radii) + [math.inf]:
        straight = math.isinf(radius)
        if straight:
            mesh = femag.geometries.box(length, width, THICKNESS, h=H, comm=comm)
            follow = (1, 0, 0)
            walls_to_try = (("transverse", states.transverse_wall(
                axis=(1, 0, 0), transverse=(0, 1, 0), width=width / 2)),)
        else:
            if length / radius >= 2 * math.pi:
                continue
            mesh = femag.geometries.curved_strip(radius, width, THICKNESS, length / radius,
                                                 h=H, comm=comm)
            follow = states.vortex(core_radius=1e-9)  # m = φ̂: along the arc
            walls_to_try = (("outward", arc_wall(radius, width / 2, core=1)),
                            ("inward", arc_wall(radius, width / 2, core=-1)))
        reference = relaxed(mesh, follow)
        e_follow = exchange_demag(reference)
        follow_terms = reference.energies()
        e_ends = end_interaction(area, length, radius)
        tag = "straight" if straight else f"R{radius * 1e9:g}nm"
        for core, m0 in walls_to_try:
            # a term is set up on one simulation: a fresh trap for each
            trap = straight_trap(gradient, (1, 0, 0)) if straight else arc_trap(gradient, radius)
            sim = relaxed(mesh, perturbed(m0), terms=(trap,))
            if straight:
                s0, delta = walls.position(sim, normal=(1, 0, 0))
            else:
                s0, delta = arc_wall_fit(sim, radius)
            femag.plot.snapshot(sim, os.path.join(out_dir, f"arc_{tag}_{core}.png"),
                                kind="glyphs", component="mx",
                                title=f"{'straight strip' if straight else f'arc R = {radius * 1e9:g} nm'}"
                                      f", {core} wall")
            sim.save(os.path.join(out_dir, f"arc_{tag}_{core}"), overwrite=True)
            e_wall = exchange_demag(sim) - e_follow
            terms = sim.energies()
            rows.append({"radius_nm": radius * 1e9,
                         "curvature_1_per_um": 0.0 if straight else 1e-6 / radius,
                         "core": core, "E_wall_J": e_wall, "E_ends_estimate_J": e_ends,
                         "E_wall_minus_E_ends_J": e_wall - e_ends,
                         "dE_exchange_J": terms["exchange"] - follow_terms["exchange"],
                         "dE_demag_J": terms["demag"] - follow_terms["demag"],
                         "chiral_exchange_J": 0.0 if straight else
                         (-1 if core == "outward" else 1) * 2 * math.pi * PERMALLOY.A * area / radius,
                         "E_trap_J": sim.energies()["trap"], "position_nm": s0 * 1e9,
                         "width_nm": delta * 1e9,
                         **relaxation_columns(sim),
                         **relaxation_columns(reference, "follow_")})
            r = rows[-1]
            record(comm, os.path.join(out_dir, "arcs.csv"), rows,
                   f"arc {tag:9s} {core:10s} E_wall = {e_wall:.4e} J, E_ends = {e_ends:.3e} J, "
                   f"E_wall − E_ends = {r['E_wall_minus_E_ends_J']:.4e} J, s0 = {s0 * 1e9:.1f} "
                   f"nm, Δ = {delta * 1e9:.1f} nm, converged = {r['converged']} (follow "
                   f"{r['follow_converged']}), {r['seconds']:.0f} s")
    return rows


def plot_arcs(rows, filename):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for core, colour, marker in (("outward", "tab:blue", "o"), ("inward", "tab:red", "s")):
        sel = sorted((r for r in rows if r["core"] in (core, "transverse")),
                     key=lambda r: r["curvature_1_per_um"])
        k = [r["curvature_1_per_um"] for r in sel]
        ax.plot(k, [r["E_wall_J"] for r in sel], marker + "-", color=colour,
                label=f"E_wall, centre {core}")
        ax.plot(k, [r["E_wall_minus_E_ends_J"] for r in sel], marker + "--", color=colour,
                markerfacecolor="white", label=f"E_wall − E_ends (estimate), {core}")
        straight = [r["E_wall_J"] for r in sel if r["core"] == "transverse"]
        if straight:
            ax.plot(k, [straight[0] + r["chiral_exchange_J"] for r in sel], ":", color=colour,
                    label=f"straight E_wall ∓ 2πAa/R (exchange cross term), {core}")
    finish_plot(fig, ax, "curvature 1/R (1/µm)  [strip 40 nm × 10 nm, 300 nm long]",
                "wall energy (J)", "head-to-head transverse wall in a curved permalloy strip",
                filename)
    plt.close(fig)


def main(out_dir="out/rings", only=None, comm=MPI.COMM_WORLD):
    out_dir_ready(out_dir, comm)
    start = time.perf_counter()
    tables = {}
    if only in (None, "rings"):
        tables["rings"] = rings(out_dir, comm)
        if comm.rank == 0:
            plot_rings(tables["rings"], os.path.join(out_dir, "ring_energy.png"))
    if only in (None, "arcs"):
        tables["arcs"] = arcs(out_dir, comm)
        if comm.rank == 0:
            plot_arcs(tables["arcs"], os.path.join(out_dir, "arc_energy.png"))
    if comm.rank == 0:
        print(f"total {time.perf_counter() - start:.0f} s", flush=True)
    return tables


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("rings", "arcs"), default=None)
    main(only=parser.parse_args().only)
