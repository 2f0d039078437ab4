"""Ultrafast demagnetisation of a nickel-like film: LLB equation driven by a two-temperature
model (TTM) heated by a 60 fs laser pulse.

    laser pulse S(t) ──► TTM: electrons T_e(t), lattice T_l(t)   (femag.TwoTemperatureModel)
                   T_e ──► LLB: m(t) = M/Ms(0), |m| free             (femag.llb, sim.run)

Material (SI), nickel:
  Ms(0) = 5.1e5 A/m and Tc = 627 K (Kittel, Introduction to Solid State Physics, 8th ed.,
  table of ferromagnetic crystals: 510 G at 0 K, Tc = 627 K); spin S = 1/2 and
  μ_at = 0.62 μ_B (Koopmans et al., Nat. Mater. 9, 259 (2010)); A(0) = 3.4e-12 J/m
  (Coey, Magnetism and Magnetic Materials (2010), table of exchange stiffness; room-T value);
  no crystalline anisotropy (Ni's K1 ≈ −5e3 J/m³ is negligible beside the shape anisotropy).
  λ = 0.02 (coupling to the bath) is *chosen*, not fitted: it gives a sub-picosecond
  demagnetisation of the order measured in Ni (Beaurepaire et al., PRL 76, 4250 (1996)).
TTM: TwoTemperatureModel.nickel() (γ_e, C_l, G cited in femag/two_temperature.py), an
absorbed fluence of 5 J/m² (0.5 mJ/cm²) over an absorption depth of 15 nm, FWHM 60 fs.

Film: 40 × 40 × 6 nm, exchange + demag, m in plane along x at m_e(300 K). The heating is
uniform (the film is thinner than the absorption depth), so ⟨|m|⟩(t) is the LLB macrospin
response; the mesh makes it a full finite-element run with the demagnetising field.

Run (serial or MPI):

    .venv/bin/python demos/ultrafast_demag.py [--outdir out] [--t-end 1e-11] [--quick]
    mpirun --allow-run-as-root -n 2 .venv/bin/python demos/ultrafast_demag.py

Writes into --outdir: ultrafast_demag/ (run folder: table.csv with t, ⟨m⟩, m_norm = ⟨|m|⟩,
T [K], energies; ParaView XDMF series of m, M, |m|), ultrafast_demag.png (T_e, T_l and
⟨|m|⟩/m_e(300 K) against time) and prints the minimum of ⟨|m|⟩, its time and the recovery
time (results in docs/llb.md).
"""
from __future__ import annotations

import argparse
import csv
import os
import time

import numpy as np
from mpi4py import MPI

import femag
from femag import mean_field
from femag.mean_field import MU_B

COMM = MPI.COMM_WORLD

NICKEL = dict(Ms=5.1e5, A=3.4e-12, Tc=627.0, spin=0.5, mu_atom=0.62 * MU_B, llb_lambda=0.02)
T0 = 300.0                 # K, ambient
FLUENCE = 5.0              # J/m², absorbed
DEPTH = 15e-9              # m, optical absorption depth of Ni near 800 nm
FWHM = 60e-15              # s
DELAY = 200e-15            # s, time of the pulse maximum


def say(*a):
    if COMM.rank == 0:
        print(*a, flush=True)


def analyse(t, norm, m_ref, delay):
    """Minimum of ⟨|m|⟩ (reduced), its delay after the pulse maximum (s), and the recovery
    time (s): from the minimum until 1 − 1/e of the way back to the final value."""
    i = int(np.argmin(norm))
    m_min, t_min = norm[i], t[i] - delay
    target = norm[i] + (1 - np.exp(-1)) * (norm[-1] - norm[i])
    after = np.nonzero(norm[i:] >= target)[0]
    t_rec = t[i + after[0]] - t[i] if len(after) else np.nan
    return m_min / m_ref, t_min, t_rec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--outdir", default=".")
    ap.add_argument("--t-end", type=float, default=10e-12, help="end time (s)")
    ap.add_argument("--save-every", type=float, default=25e-15, help="output interval (s)")
    ap.add_argument("--fluence", type=float, default=FLUENCE, help="absorbed fluence (J/m²)")
    ap.add_argument("--quick", action="store_true", help="3 ps, coarser output")
    args = ap.parse_args()
    t_end, save_every = (3e-12, 50e-15) if args.quick else (args.t_end, args.save_every)

    mesh = femag.geometries.box(40e-9, 40e-9, 6e-9, h=3e-9, comm=COMM)
    mat = femag.Material(alpha=0.05, **NICKEL)
    sim = femag.Simulation(mesh, mat, equation="llb", name="ultrafast_demag")
    sim.add(femag.Exchange(), femag.Demag())
    ttm = femag.TwoTemperatureModel.nickel(T0=T0, pulse_fluence=args.fluence, absorption_depth=DEPTH,
                                           pulse_fwhm=FWHM, pulse_delay=DELAY)
    sim.temperature = ttm
    m_ref = float(mean_field.equilibrium_m(T0, mat))
    sim.m = (m_ref, 0.0, 0.0)
    say(f"Ni film: m_e({T0:.0f} K) = {m_ref:.4f}, χ∥ = {mean_field.chi_parallel(T0, mat):.3e} m/A, "
        f"τ∥({T0:.0f} K) = {mean_field.longitudinal_relaxation_time(T0, mat, mat.gamma):.3e} s, "
        f"absorbed {ttm.pulse_energy:.3e} J/m³")

    out = os.path.join(args.outdir, "ultrafast_demag")
    start = time.perf_counter()
    result = sim.run(t_end, save_every=save_every, output=out, overwrite=True, verbose=False)
    say(f"{result}  ({time.perf_counter() - start:.1f} s on {COMM.size} rank(s))")

    if COMM.rank != 0:
        return
    with open(os.path.join(out, "table.csv")) as f:
        rows = list(csv.DictReader(f))
    t = np.array([float(r["t [s]"]) for r in rows])
    norm = np.array([float(r["m_norm"]) for r in rows])
    Te = np.array([float(r["T [K]"]) for r in rows])
    Tl = ttm.lattice(t)
    reduced_min, t_min, t_rec = analyse(t, norm, m_ref, DELAY)
    T_final = float(Tl[-1])
    m_final = float(mean_field.equilibrium_m(T_final, mat))
    print(f"peak T_e = {Te.max():.0f} K at {1e15 * (t[np.argmax(Te)] - DELAY):.0f} fs after the "
          f"pulse maximum; T_e = T_l = {T_final:.0f} K at the end", flush=True)
    print(f"minimum <|m|>/m_e({T0:.0f} K) = {reduced_min:.3f} at {1e15 * t_min:.0f} fs after the "
          f"pulse maximum; recovery time (1 - 1/e) = {1e12 * t_rec:.2f} ps; "
          f"<|m|>(end)/m_e({T0:.0f} K) = {norm[-1] / m_ref:.3f} "
          f"(m_e(T_l(end))/m_e({T0:.0f} K) = {m_final / m_ref:.3f})", flush=True)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 1, figsize=(7, 7), sharex=True)
    tp = 1e12 * (t - DELAY)
    ax[0].plot(tp, Te, label="electrons T_e")
    ax[0].plot(tp, Tl, label="lattice T_l")
    ax[0].axhline(mat.Tc, color="gray", ls=":", label="Tc")
    ax[0].set_ylabel("T (K)")
    ax[0].legend()
    ax[1].plot(tp, norm / m_ref, "k-", label="⟨|m|⟩ / m_e(300 K)")
    ax[1].plot(tp, mean_field.equilibrium_m(Te, mat) / m_ref, "--", label="m_e(T_e) / m_e(300 K)")
    ax[1].set_xlabel("t − t_pulse (ps)")
    ax[1].set_ylabel("reduced magnetisation")
    ax[1].set_ylim(0, 1.05)
    ax[1].legend()
    fig.suptitle(f"Ni film 40×40×6 nm, LLB (S = 1/2, λ = {mat.llb_lambda}) + TTM, "
                 f"{args.fluence / 10:.2g} mJ/cm² absorbed, {1e15 * FWHM:.0f} fs pulse\n"
                 f"min {reduced_min:.2f} at {1e15 * t_min:.0f} fs, recovery "
                 f"{1e12 * t_rec:.2f} ps", fontsize=9)
    fig.tight_layout()
    png = os.path.join(args.outdir, "ultrafast_demag.png")
    fig.savefig(png, dpi=120)
    print(f"wrote {png} and the run folder {out}", flush=True)


if __name__ == "__main__":
    main()
