"""Energy minimisation: steepest descent on the sphere with Barzilai–Borwein steps.

With g = m × (m × H_eff) (the descent direction's negative, tangent to the unit sphere
at every node), one iteration is

    m ← normalise(m − τ g),

with the step τ (in m/A) from a Barzilai–Borwein formula, by default the short one
τ₂ = (s·y)/(y·y) (``variant="bb1"``: τ₁ = (s·s)/(s·y); ``"alternate"``: both in turn),
s = Δm, y = Δg (Exl et al., J. Appl. Phys. 115, 17D118 (2014)), capped so that no node
turns by more than `max_angle` per step. On the nearly free translation mode of a
domain wall τ₁ and the alternation stall (measured on the 1D Bloch wall: no convergence
to 1 A/m in 4000 iterations), τ₂ converges in ~2500. It stops when max_i |m_i × H_i| < tol (A/m) and raises
:class:`MinimizationError` when the iteration limit is reached first.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from mpi4py import MPI

from . import compat


class MinimizationError(RuntimeError):
    """The minimiser did not reach its torque tolerance within its iteration limit."""


@dataclass
class MinimizationResult:
    iterations: int
    torque: float  # A/m
    energy: float  # J
    wall_time: float  # s

    def __str__(self):
        return (f"minimize: converged in {self.iterations} iterations, max |m x H| = "
                f"{self.torque:.3g} A/m, E = {self.energy:.6g} J, {self.wall_time:.1f} s")


def minimize(sim, tol=1.0, max_iterations=20000, initial_step=1e-2, verbose=False,
             report_every=500, max_angle=0.5, variant="bb2"):
    """Minimise the total energy of `sim` in place (collective).

    Parameters
    ----------
    tol : float
        Stop when max |m × H_eff| < tol, in A/m.
    max_iterations : int
        Limit; reaching it raises MinimizationError (the state reached is kept).
    initial_step : float
        First step as the largest rotation angle (rad).
    verbose : bool
        Print a progress line on rank 0 every `report_every` iterations.
    """
    if not tol > 0:
        raise ValueError(f"minimize tol must be > 0 (A/m), got {tol!r}")
    comm = sim.comm
    start = time.perf_counter()
    n = sim.n_owned

    def dot(a, b):
        return comm.allreduce(float(np.vdot(a, b)), op=MPI.SUM)

    def gradient():
        h = sim.nodal(sim.effective_field())
        m = sim.nodal(sim.m)
        torque = np.cross(m, h)
        g = np.cross(m, torque)  # m × (m × H) = (m·H) m − H
        local = float(np.max(np.linalg.norm(torque, axis=1))) if n else 0.0
        return g, comm.allreduce(local, op=MPI.MAX)

    g, torque = gradient()
    gmax = comm.allreduce(float(np.max(np.linalg.norm(g, axis=1))) if n else 0.0, op=MPI.MAX)
    tau = initial_step / gmax if gmax > 0 else 0.0
    iteration = 0
    while torque >= tol:
        if iteration >= max_iterations:
            energy = sim.energy()
            msg = (f"minimize did not converge: max |m x H| = {torque:.3g} A/m after "
                   f"{iteration} iterations (tol {tol:g} A/m, E = {energy:.6g} J). Raise "
                   f"max_iterations or tol, or relax with sim.relax() instead")
            raise MinimizationError(msg)
        # the largest rotation of any node stays below max_angle (rad): BB steps
        # occasionally overshoot on the soft translation modes of walls
        gmax = comm.allreduce(float(np.max(np.linalg.norm(g, axis=1))) if n else 0.0, op=MPI.MAX)
        tau = min(tau, max_angle / gmax) if gmax > 0 else tau
        m_old = sim.nodal(sim.m).copy()
        m = sim.nodal(sim.m)
        m -= tau * g
        m /= np.linalg.norm(m, axis=1)[:, None]
        compat.scatter_forward(sim.m)
        g_new, torque = gradient()
        s = m - m_old
        y = g_new - g
        sy, ss, yy = dot(s, y), dot(s, s), dot(y, y)
        iteration += 1
        if sy > 0:
            if variant == "alternate":
                tau = ss / sy if iteration % 2 else sy / yy
            elif variant == "bb1":
                tau = ss / sy
            else:
                tau = sy / yy
        else:  # not locally convex along s: fall back to a small safe step
            tau = initial_step / max(comm.allreduce(float(np.max(np.linalg.norm(g_new, axis=1)))
                                                    if n else 0.0, op=MPI.MAX), 1e-300)
        g = g_new
        if verbose and comm.rank == 0 and iteration % report_every == 0:
            print(f"minimize: iteration {iteration}, max |m x H| = {torque:.3g} A/m", flush=True)
    result = MinimizationResult(iteration, torque, sim.energy(), time.perf_counter() - start)
    if verbose and comm.rank == 0:
        print(result, flush=True)
    return result
