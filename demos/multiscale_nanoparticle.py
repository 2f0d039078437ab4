"""Multiscale demo: from an atomistic description of bcc iron to LLB-ready parameters.

    (J, S, lattice, a, μ_at, g, k_at)
        ──► A, Ms, γ0, K, l_ex, δ_w, mean-field and classical Tc   (femag.multiscale)
        ──► Monte-Carlo m_e(T), χ∥(T), Tc from Binder crossings     (femag.atomistic)
        ──► a TabulatedEquilibrium for the LLB equation             (femag.mean_field)
        ──► LLB: an 8 nm Fe sphere heated through Tc and cooled again (femag.llb)

Run serially or on several ranks (the Monte-Carlo temperatures are shared):

    .venv/bin/python demos/multiscale_nanoparticle.py
    mpirun --allow-run-as-root -n 2 .venv/bin/python demos/multiscale_nanoparticle.py

Writes ``multiscale_nanoparticle.png`` (the curves), ``multiscale_nanoparticle_llb.png``
(⟨|m|⟩(t) of the heated particle against m_e(T(t))), the LLB run folder
``multiscale_nanoparticle_llb/`` (table.csv, ParaView series) and ``multiscale_nanoparticle.npz``
(T in K, m_e, chi_par in m/A, their errors, Tc in K, and the continuum parameters in
SI units) into --outdir. Takes about a minute on one core with the defaults.
"""
from __future__ import annotations

import argparse
import os
import time
import types

import numpy as np
from mpi4py import MPI

import femag
from femag import atomistic, mean_field, multiscale

COMM = MPI.COMM_WORLD

# bcc Fe, nearest-neighbour classical Heisenberg model (Evans et al., J. Phys.:
# Condens. Matter 26, 103202 (2014)); S = 1: unit classical spins, J = bond energy.
J = 7.05e-21            # J, H = -Σ_<ij> J S_i·S_j (J > 0 ferromagnetic)
S = 1.0                 # spin length (1)
LATTICE = "bcc"
A_LAT = 2.8665e-10      # m
MOMENT = 2.22           # μ_B per atom
G = 2.09                # Landé factor (1)
K_ATOM = 5.65e-25       # J per atom, energy -k_at (s·e)²


def say(*a):
    if COMM.rank == 0:
        print(*a, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--L", type=int, default=8, help="bcc cells per side (N = 2L³)")
    ap.add_argument("--sweeps", type=int, default=3000, help="sweeps per temperature")
    ap.add_argument("--outdir", default=".")
    ap.add_argument("--quick", action="store_true", help="small, fast run")
    args = ap.parse_args()
    L, sweeps = (6, 1000) if args.quick else (args.L, args.sweeps)

    # -- 1. closed-form bridge ----------------------------------------------------
    p = multiscale.micromagnetic_parameters(J, LATTICE, A_LAT, MOMENT, S=S, g=G,
                                            k_atom=K_ATOM)
    say("Atomistic input: J = %.3e J (%.2f meV), S = %g, %s, a = %.4f Å, "
        "μ = %.2f μ_B, g = %.2f, k_at = %.3e J"
        % (J, 1e3 * multiscale.joule_to_ev(J), S, LATTICE, A_LAT * 1e10, MOMENT, G,
           K_ATOM))
    say("Continuum parameters:")
    say(f"  A      = {p.A:.4e} J/m        (n J S²/(2a), n = 2 for bcc)")
    say(f"  Ms     = {p.Ms:.4e} A/m        (n_at μ_at)")
    say(f"  Ku     = {p.Ku:.4e} J/m³       (n_at k_at)")
    say(f"  γ0     = {p.gamma0:.4e} m/(A s)   (μ0 g μ_B/ħ)")
    say(f"  l_ex   = {p.exchange_length * 1e9:.3f} nm, wall width π√(A/K) = "
        f"{p.wall_width * 1e9:.1f} nm")
    say(f"  Tc     = {p.Tc_mean_field:.0f} K (mean field zJS²/3k_B), "
        f"{p.Tc_classical:.0f} K (classical, 2.054 J/k_B)")

    # -- 2. Monte-Carlo thermodynamics --------------------------------------------
    t_ref = p.Tc_classical
    T = t_ref * np.concatenate([np.linspace(0.05, 0.85, 9), np.linspace(0.9, 1.1, 5),
                                [1.2, 1.35, 1.5]])
    t0 = time.perf_counter()
    eq = atomistic.equilibrium_curves(J * S * S, LATTICE, T, L=L, mu_atom=p.mu_atom,
                                      sweeps=sweeps, seed=1, comm=COMM)
    say(f"Monte Carlo ({LATTICE}, L = {L}, N = {eq.scan.N}, {sweeps} sweeps per T, "
        f"{COMM.size} rank(s)): {time.perf_counter() - t0:.1f} s")
    say(f"  Tc (Binder crossing L = {eq.curie.crossings[-1][0]}/{L}) = "
        f"{eq.Tc:.1f} ± {eq.Tc_err:.1f} K   (experiment 1043 K; mean field "
        f"{p.Tc_mean_field:.0f} K is {100 * (p.Tc_mean_field / eq.Tc - 1):.0f} % high)")

    # -- 3. hand the curves to the LLB thermodynamics ------------------------------
    mat_mc = types.SimpleNamespace(**p.material_kwargs(Tc=eq.Tc), spin=None,
                                   equilibrium=eq)
    mat_mf = types.SimpleNamespace(**p.material_kwargs(Tc="mean-field"), spin=None,
                                   equilibrium=None)
    Tf = np.linspace(1.0, 1.5 * t_ref, 400)
    m_mc = mean_field.equilibrium_m(Tf, mat_mc)
    m_mf = mean_field.equilibrium_m(Tf, mat_mf)
    m_mf_scaled = mean_field.equilibrium_m(Tf * p.Tc_mean_field / eq.Tc, mat_mf)
    for Tq in (300.0, 0.5 * eq.Tc, 0.9 * eq.Tc):
        say(f"  T = {Tq:6.1f} K: m_e MC = {float(mean_field.equilibrium_m(Tq, mat_mc)):.4f}, "
            f"mean field = {float(mean_field.equilibrium_m(Tq, mat_mf)):.4f};"
            f"  A(T) = A0 m_e² = {float(mean_field.exchange_stiffness(Tq, mat_mc)):.3e} J/m")

    # -- 4. LLB: the nanoparticle heated through Tc and cooled again -----------------
    llb = heat_nanoparticle(p, eq, args.outdir, quick=args.quick)

    if COMM.rank != 0:
        return
    os.makedirs(args.outdir, exist_ok=True)
    plot_llb(llb, eq, args.outdir)
    np.savez(os.path.join(args.outdir, "multiscale_nanoparticle.npz"),
             T=eq.T, m_e=eq.m_e, m_e_err=eq.m_e_err, chi_par=eq.chi_par,
             chi_par_err=eq.chi_par_err, Tc=eq.Tc, Tc_err=eq.Tc_err, A=p.A, Ms=p.Ms,
             Ku=p.Ku, gamma0=p.gamma0, mu_atom=p.mu_atom, Tc_mean_field=p.Tc_mean_field)

    # -- 5. plot --------------------------------------------------------------------
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 2, figsize=(11, 8.5))
    a = ax[0, 0]
    a.errorbar(eq.T, eq.m_e, eq.m_e_err, fmt="o", ms=4, label=f"Monte Carlo (L={L})")
    a.plot(Tf, m_mc, "-", label="table used by LLB")
    a.plot(Tf, m_mf, "--", label=f"mean field, Tc = {p.Tc_mean_field:.0f} K")
    a.plot(Tf, m_mf_scaled, ":", label="mean field rescaled to MC Tc")
    a.axvline(eq.Tc, color="gray", lw=0.8)
    a.axvline(1043, color="k", lw=0.8, ls="--")
    a.set_xlabel("T (K)")
    a.set_ylabel("m_e = Ms(T)/Ms(0)")
    a.legend(fontsize=8)
    a.set_title("equilibrium magnetisation (grey: MC Tc, dashed: 1043 K)")

    a = ax[0, 1]
    a.errorbar(eq.T, eq.chi_par, eq.chi_par_err, fmt="o", ms=4, label="Monte Carlo")
    a.plot(Tf, mean_field.chi_parallel(Tf, mat_mc), "-", label="table used by LLB")
    Tmf = Tf[np.abs(Tf - p.Tc_mean_field) > 5]
    a.plot(Tmf, mean_field.chi_parallel(Tmf, mat_mf), "--", label="mean field")
    a.set_yscale("log")
    a.set_xlabel("T (K)")
    a.set_ylabel("χ∥ (m/A)")
    a.legend(fontsize=8)
    a.set_title("longitudinal susceptibility")

    a = ax[1, 0]
    for Ls, sc in sorted(eq.curie.scans.items()):
        a.errorbar(sc.T, sc.binder, sc.binder_err, fmt="o-", ms=4, label=f"L = {Ls}")
    a.axvline(eq.Tc, color="gray", lw=0.8)
    a.set_xlabel("T (K)")
    a.set_ylabel("U4 = 1 − ⟨m⁴⟩/(3⟨m²⟩²)")
    a.legend(fontsize=8)
    a.set_title(f"Binder crossing: Tc = {eq.Tc:.0f} ± {eq.Tc_err:.0f} K")

    a = ax[1, 1]
    a.plot(Tf, mean_field.exchange_stiffness(Tf, mat_mc) / p.A, "-", label="A(T)/A0 = m_e²")
    a.plot(Tf, m_mc, "--", label="Ms(T)/Ms(0) = m_e")
    a.set_xlabel("T (K)")
    a.set_ylabel("reduced value")
    a.legend(fontsize=8)
    a.set_title("temperature-dependent continuum parameters")
    fig.suptitle(f"bcc Fe from J = {J:.3g} J, S = {S:g}, a = {A_LAT * 1e10:.4g} Å, "
                 f"μ = {MOMENT} μ_B, g = {G}\nA0 = {p.A:.3g} J/m, Ms = {p.Ms:.3g} A/m, "
                 f"Ku = {p.Ku:.3g} J/m³, γ0 = {p.gamma0:.4g} m/(A·s), "
                 f"l_ex = {p.exchange_length * 1e9:.2f} nm\n"
                 f"Tc: mean field {p.Tc_mean_field:.0f} K, Monte Carlo {eq.Tc:.0f} ± "
                 f"{eq.Tc_err:.0f} K, experiment 1043 K", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    out = os.path.join(args.outdir, "multiscale_nanoparticle.png")
    fig.savefig(out, dpi=120)
    say(f"wrote {out}")


# LLB stage: temperature ramp (K) against time (s): 300 K → 1.15 Tc → 300 K
HEAT, HOLD, COOL, END = 20e-12, 30e-12, 50e-12, 70e-12


def ramp(Tc):
    """T(t) in K: linear heating to 1.15 Tc by HEAT, hold, linear cooling to 300 K by COOL."""
    hot = 1.15 * Tc

    def T(t):
        return float(np.interp(t, [0.0, HEAT, HOLD, COOL], [300.0, hot, hot, 300.0]))
    return T


def heat_nanoparticle(p, eq, outdir, quick=False):
    """LLB run of a sphere (radius 4 nm) with the Monte-Carlo curves; returns (t, ⟨|m|⟩, T)."""
    mesh = femag.geometries.sphere(4e-9, h=2e-9, comm=COMM)
    mat = femag.Material(**p.material_kwargs(Tc=eq.Tc), gamma=p.gamma0, llb_lambda=0.1,
                         spin=None, equilibrium=eq, axis=(0, 0, 1))
    sim = femag.Simulation(mesh, mat, equation="llb", name="fe_nanoparticle")
    sim.add(femag.Exchange(), femag.UniaxialAnisotropy())
    T = ramp(eq.Tc)
    sim.temperature = T
    sim.m = (0.0, 0.0, float(mean_field.equilibrium_m(300.0, mat)))
    t0 = time.perf_counter()
    end = COOL + 5e-12 if quick else END
    result = sim.run(end, save_every=0.5e-12, verbose=False,
                     output=os.path.join(outdir, "multiscale_nanoparticle_llb"), overwrite=True)
    say(f"LLB: Fe sphere r = 4 nm heated to 1.15 Tc and cooled: {result.steps} steps, "
        f"{time.perf_counter() - t0:.1f} s")
    t = result.column("t")
    norm = np.linalg.norm(np.column_stack([result.column(c) for c in ("mx", "my", "mz")]), axis=1)
    temps = np.array([T(ti) for ti in t])
    i_hot = np.searchsorted(t, HOLD)
    say(f"  <m> at the end of the hot plateau ({1e12 * HOLD:.0f} ps, T = 1.15 Tc): "
        f"{norm[i_hot]:.2e} (paramagnetic); after cooling to 300 K: {norm[-1]:.4f} "
        f"(m_e(300 K) = {float(mean_field.equilibrium_m(300.0, mat)):.4f})")
    return t, norm, temps, mat


def plot_llb(llb, eq, outdir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    t, norm, temps, mat = llb
    fig, ax = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    ax[0].plot(1e12 * t, temps)
    ax[0].axhline(eq.Tc, color="gray", ls=":", label="Monte-Carlo Tc")
    ax[0].set_ylabel("T (K)")
    ax[0].legend()
    ax[1].plot(1e12 * t, norm, "k-", label="|⟨m⟩| (LLB)")
    ax[1].plot(1e12 * t, mean_field.equilibrium_m(temps, mat), "--", label="m_e(T(t)) (table)")
    ax[1].set_yscale("log")
    ax[1].set_ylim(1e-4, 1.2)
    ax[1].set_xlabel("t (ps)")
    ax[1].set_ylabel("reduced magnetisation")
    ax[1].legend()
    fig.suptitle("Fe nanoparticle (r = 4 nm), LLB with Monte-Carlo m_e(T), χ∥(T), λ = 0.1",
                 fontsize=9)
    fig.tight_layout()
    out = os.path.join(outdir, "multiscale_nanoparticle_llb.png")
    fig.savefig(out, dpi=120)
    say(f"wrote {out}")


if __name__ == "__main__":
    main()
