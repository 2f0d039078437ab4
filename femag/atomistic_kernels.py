"""Compiled (numba) inner loops of the atomistic Metropolis Monte Carlo.

Everything here works in reduced units: energies in units of the exchange J (J > 0
ferromagnetic in H = -J Σ_<ij> s_i·s_j - h Σ_i s_i^z, each pair counted once),
temperature t = k_B T / J and field h = μ_at μ0 H / J (all dimensionless). The
physical wrappers and the SI conversions are in ``femag.atomistic``.

Random numbers come from xoshiro256+ (Blackman & Vigna, ACM Trans. Math. Softw. 47,
36 (2021)), written out here from the published algorithm. Its 4 × 64-bit state is an
explicit array owned by each simulation, so a run is reproducible from its seed and
independent of any other generator in the process (numba's own np.random state is
global). Doubles in [0, 1) take the top 53 bits.

Sweeps are plain sequential Metropolis sweeps: sites 0..N-1 in order, one trial per
site. Sequential updating satisfies global balance (each single-site Metropolis
update leaves the Boltzmann distribution invariant), which is all that is needed.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

_U11 = np.uint64(11)
_U17 = np.uint64(17)
_U45 = np.uint64(45)
_U19 = np.uint64(19)
_INV53 = 1.0 / 9007199254740992.0   # 2**-53

MASK64 = (1 << 64) - 1


def seed_state(seed):
    """xoshiro256+ state (uint64[4]) from an integer seed via SplitMix64 (Vigna), as
    recommended by the xoshiro authors; any seed ≥ 0 gives a valid (nonzero) state."""
    x = int(seed) & MASK64
    out = np.empty(4, dtype=np.uint64)
    for k in range(4):
        x = (x + 0x9E3779B97F4A7C15) & MASK64
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        out[k] = np.uint64(z ^ (z >> 31))
    return out


@njit(cache=True, inline="always")
def _next(s0, s1, s2, s3):
    """One xoshiro256+ step: new state and a double in [0, 1)."""
    res = s0 + s3
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _U45) | (s3 >> _U19)
    return s0, s1, s2, s3, float(res >> _U11) * _INV53


@njit(cache=True)
def uniform_doubles(state, n):
    """n doubles in [0, 1) from the generator ``state`` (advanced in place); for tests."""
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    out = np.empty(n)
    for k in range(n):
        s0, s1, s2, s3, out[k] = _next(s0, s1, s2, s3)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return out


# ---------------------------------------------------------------------------------
# vector spins: Heisenberg (ncomp = 3) and XY (ncomp = 2)
# ---------------------------------------------------------------------------------
@njit(cache=True)
def vector_energy_moment(spins, nbr, h):
    """(E, Mx, My, Mz): total reduced energy -Σ_<ij> s_i·s_j - h Σ s_i^z (each bond
    once: half the sum over the neighbour table) and total moment Σ s_i."""
    n, z = nbr.shape
    e2 = 0.0
    mx = my = mz = 0.0
    for i in range(n):
        ax = ay = az = 0.0
        for k in range(z):
            j = nbr[i, k]
            ax += spins[j, 0]
            ay += spins[j, 1]
            az += spins[j, 2]
        e2 += spins[i, 0] * ax + spins[i, 1] * ay + spins[i, 2] * az
        mx += spins[i, 0]
        my += spins[i, 1]
        mz += spins[i, 2]
    return -0.5 * e2 - h * mz, mx, my, mz


@njit(cache=True)
def vector_sweeps(spins, nbr, beta, h, ncomp, move, step, nsweeps, every,
                  state, out_m, out_e):
    """Run ``nsweeps`` sequential Metropolis sweeps of classical unit vectors.

    spins : (N, 3) float64 unit vectors (z component kept 0 for XY, ncomp = 2).
    nbr : (N, z) int32 neighbour table. beta = J/(k_B T), h = μ_at μ0 H/J along z.
    move : 0 = new direction uniform on the sphere (Marsaglia 1972) or circle,
           1 = s + step·u renormalised, u uniform in the unit ball (disk for XY);
           both proposals depend only on the angle between old and new spin, so they
           are symmetric and plain Metropolis acceptance min(1, e^{-βΔE}) applies.
    Every ``every`` sweeps the moment per spin (3 comps) and energy per spin are
    written to out_m[k], out_e[k] (if out_e is long enough). Returns the number of
    accepted trials. ``state`` (uint64[4]) is advanced in place.
    """
    n, z = nbr.shape
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    E, mx, my, mz = vector_energy_moment(spins, nbr, h)
    nmeas = out_e.shape[0]
    k_meas = 0
    acc = 0
    twopi = 2.0 * math.pi
    for sw in range(nsweeps):
        for i in range(n):
            hx = 0.0
            hy = 0.0
            hz = h
            for k in range(z):
                j = nbr[i, k]
                hx += spins[j, 0]
                hy += spins[j, 1]
                hz += spins[j, 2]
            ox = spins[i, 0]
            oy = spins[i, 1]
            oz = spins[i, 2]
            if move == 0:
                if ncomp == 3:
                    while True:
                        s0, s1, s2, s3, r1 = _next(s0, s1, s2, s3)
                        s0, s1, s2, s3, r2 = _next(s0, s1, s2, s3)
                        u = 2.0 * r1 - 1.0
                        v = 2.0 * r2 - 1.0
                        q = u * u + v * v
                        if q < 1.0:
                            break
                    f = 2.0 * math.sqrt(1.0 - q)
                    nx = u * f
                    ny = v * f
                    nz = 1.0 - 2.0 * q
                else:
                    s0, s1, s2, s3, r1 = _next(s0, s1, s2, s3)
                    phi = twopi * r1
                    nx = math.cos(phi)
                    ny = math.sin(phi)
                    nz = 0.0
            else:
                while True:
                    s0, s1, s2, s3, r1 = _next(s0, s1, s2, s3)
                    s0, s1, s2, s3, r2 = _next(s0, s1, s2, s3)
                    u = 2.0 * r1 - 1.0
                    v = 2.0 * r2 - 1.0
                    w = 0.0
                    if ncomp == 3:
                        s0, s1, s2, s3, r3 = _next(s0, s1, s2, s3)
                        w = 2.0 * r3 - 1.0
                    q = u * u + v * v + w * w
                    if q < 1.0:
                        break
                nx = ox + step * u
                ny = oy + step * v
                nz = oz + step * w
                norm = math.sqrt(nx * nx + ny * ny + nz * nz)
                if norm == 0.0:
                    continue   # measure-zero event; counts as a rejected trial
                nx /= norm
                ny /= norm
                nz /= norm
            dE = -((nx - ox) * hx + (ny - oy) * hy + (nz - oz) * hz)
            accept = dE <= 0.0
            if not accept:
                s0, s1, s2, s3, r1 = _next(s0, s1, s2, s3)
                accept = r1 < math.exp(-beta * dE)
            if accept:
                spins[i, 0] = nx
                spins[i, 1] = ny
                spins[i, 2] = nz
                E += dE
                mx += nx - ox
                my += ny - oy
                mz += nz - oz
                acc += 1
        if (sw + 1) % every == 0 and k_meas < nmeas:
            out_m[k_meas, 0] = mx / n
            out_m[k_meas, 1] = my / n
            out_m[k_meas, 2] = mz / n
            out_e[k_meas] = E / n
            k_meas += 1
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return acc


# ---------------------------------------------------------------------------------
# Ising spins
# ---------------------------------------------------------------------------------
@njit(cache=True)
def ising_energy_moment(spins, nbr, h):
    """(E, M): reduced energy -Σ_<ij> s_i s_j - h Σ s_i and moment Σ s_i (s = ±1)."""
    n, z = nbr.shape
    e2 = 0
    m = 0
    for i in range(n):
        a = 0
        for k in range(z):
            a += spins[nbr[i, k]]
        e2 += spins[i] * a
        m += spins[i]
    return -0.5 * e2 - h * m, m


@njit(cache=True)
def ising_sweeps(spins, nbr, beta, h, nsweeps, every, state, out_m, out_e):
    """Sequential Metropolis sweeps of Ising spins (int8 ±1), flip trials with the
    acceptance min(1, e^{-βΔE}), ΔE = 2 s_i (Σ_j s_j + h), taken from a table.
    Records the moment per spin in out_m[k, 2] (components 0, 1 zero) and the energy
    per spin in out_e[k] every ``every`` sweeps. Returns the number of flips."""
    n, z = nbr.shape
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    # table[(s+1)//2, a+z] = acceptance of flipping spin s with neighbour sum a
    table = np.empty((2, 2 * z + 1))
    for si in range(2):
        sv = 2 * si - 1
        for a in range(-z, z + 1):
            dE = 2.0 * sv * (a + h)
            table[si, a + z] = 1.0 if dE <= 0.0 else math.exp(-beta * dE)
    Ef, M = ising_energy_moment(spins, nbr, h)
    nmeas = out_e.shape[0]
    k_meas = 0
    acc = 0
    for sw in range(nsweeps):
        for i in range(n):
            a = 0
            for k in range(z):
                a += spins[nbr[i, k]]
            sv = spins[i]
            p = table[(sv + 1) >> 1, a + z]
            flip = p >= 1.0
            if not flip:
                s0, s1, s2, s3, r1 = _next(s0, s1, s2, s3)
                flip = r1 < p
            if flip:
                spins[i] = -sv
                Ef += 2.0 * sv * (a + h)
                M -= 2 * sv
                acc += 1
        if (sw + 1) % every == 0 and k_meas < nmeas:
            out_m[k_meas, 0] = 0.0
            out_m[k_meas, 1] = 0.0
            out_m[k_meas, 2] = M / n
            out_e[k_meas] = Ef / n
            k_meas += 1
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return acc
