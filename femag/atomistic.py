"""Atomistic thermodynamics: Metropolis Monte Carlo of classical spin models.

Model (each nearest-neighbour pair <ij> counted once, J > 0 ferromagnetic)::

    H = -J Σ_<ij> s_i·s_j  -  μ_at μ0 H_z Σ_i s_i^z

with unit classical spins s_i: 3-component ("heisenberg"), 2-component in the xy
plane ("xy"), or s_i = ±1 along z ("ising"), on the simple-cubic ("sc"),
body-centred cubic ("bcc"), face-centred cubic ("fcc") lattice (L×L×L conventional
cubic cells: N = L³, 2L³, 4L³ spins) or the 2D square lattice ("square", N = L²),
with periodic boundaries.

Units (SI): J in joules (the energy of one bond of unit vectors; for spins of length
S this is J_ij S²), temperatures T in K, applied field H_z in A/m, the atomic moment
μ_at in J/T (A·m²), energies in J per spin, heat capacity in J/K per spin,
susceptibilities in m/A. Internally the compiled kernels (``femag.atomistic_kernels``)
work in reduced units t = k_B T/J. With J = k_B·(1 K) the temperature in kelvin *is*
the reduced temperature t, which is how the tests state the known critical points
(2D Ising: t_c = 2/ln(1+√2) ≈ 2.269185; 3D classical Heisenberg on sc: t_c ≈ 1.443).

Algorithm: plain sequential single-spin Metropolis sweeps, compiled with numba
(``njit(cache=True)``), one trial per site and sweep. Heisenberg trials draw a new
direction uniformly on the sphere (``move="uniform"``, Marsaglia's method) or, with
``move="adaptive"``, a small random step s + δu (u uniform in the unit ball,
renormalised), with δ tuned during thermalisation for ≈50 % acceptance — useful far
below Tc, where uniform trials are mostly rejected. XY spins draw a uniform angle (or
the same small step in the plane); Ising spins are flipped. The generator is
xoshiro256+ seeded from an integer, so every run is reproducible.

Measurements (one per ``every`` sweeps after thermalisation): the moment per spin
m = (1/N) Σ s_i and the energy per spin e. Estimators (β = 1/(k_B T)):

* m      = ⟨|m|⟩                                   (dimensionless)
* m_z    = ⟨m_z⟩                                   (component along the field)
* χ∥     = μ0 μ_at N β (⟨m²⟩ − ⟨|m|⟩²)             (m/A; ∂m/∂H from fluctuations of
                                                    the length of m, finite-size form)
* χ_0    = μ0 μ_at N β ⟨m²⟩ / n                    (m/A; the exact zero-field response
                                                    ∂⟨m_z⟩/∂H of the finite isotropic
                                                    system, n = 3, 2, 1 spin components;
                                                    the susceptibility above Tc)
* U4     = 1 − ⟨m⁴⟩ / (3⟨m²⟩²)                      (Binder cumulant)
* e = ⟨H⟩/N (J),  C = N β² k_B (⟨e²⟩ − ⟨e⟩²)        (J/K per spin)

Error bars: the series is cut into ``blocks`` consecutive blocks (default 20; each
must be longer than the autocorrelation time); the error of a mean is the standard
error of the block means and that of a nonlinear estimator (χ, U4, C) the jackknife
error over blocks.

The Curie temperature comes from Binder-cumulant crossings (Binder, Z. Phys. B 43,
119 (1981)): U4(T) of two sizes cross at Tc up to corrections to scaling.

Parallelism: the Monte Carlo is serial (one process, independent of MPI). The scans
(``temperature_scan``, ``curie_temperature``, ``equilibrium_curves``) accept an MPI
communicator and then share the temperatures among the ranks; every temperature has
its own seed derived from (seed, L, index), so results do not depend on the number of
ranks.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import constants as _const

from . import atomistic_kernels as _k

__all__ = [
    "KB", "MU0", "MU_B", "LATTICES", "MODELS", "Lattice", "lattice", "neighbour_table",
    "MonteCarlo", "Sample", "Scan", "temperature_scan", "binder_crossing",
    "curie_temperature", "CurieResult", "equilibrium_curves",
    "onsager_tc", "ising_2d_magnetisation", "HEISENBERG_SC_TC", "CLASSICAL_TC_OVER_J",
]

KB = _const.k                                         # J/K
MU0 = _const.mu_0                                     # T·m/A
MU_B = _const.physical_constants["Bohr magneton"][0]  # J/T

MODELS = ("heisenberg", "xy", "ising")

#: Known critical temperatures k_B Tc / J of classical Heisenberg spins (|s| = 1,
#: H = -J Σ_<ij> s_i·s_j): sc 1.4430 (Chen, Ferrenberg & Landau, PRB 48, 3249
#: (1993); Holm & Janke, PRB 48, 936 (1993)), bcc 2.054 and fcc 3.18 (high-temperature
#: series, Rushbrooke & Wood, Mol. Phys. 1, 257 (1958); see docs/multiscale.md and
#: benchmarks/monte_carlo.py for this package's own values).
CLASSICAL_TC_OVER_J = {"sc": 1.4430, "bcc": 2.054, "fcc": 3.18}
HEISENBERG_SC_TC = CLASSICAL_TC_OVER_J["sc"]


def onsager_tc():
    """Onsager's critical temperature of the square-lattice Ising model,
    k_B Tc/J = 2/ln(1+√2) ≈ 2.269185 (dimensionless; H = -J Σ_<ij> s_i s_j)."""
    return 2.0 / math.log(1.0 + math.sqrt(2.0))


def ising_2d_magnetisation(t):
    """Exact spontaneous magnetisation of the square-lattice Ising model (Onsager;
    Yang, Phys. Rev. 85, 808 (1952)): m = (1 − sinh⁻⁴(2/t))^{1/8} for t = k_B T/J
    below t_c, 0 above (dimensionless)."""
    t = np.asarray(t, dtype=float)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        x = 1.0 - np.sinh(2.0 / t) ** -4.0
    return np.where(x > 0, np.abs(x) ** 0.125, 0.0)


# ---------------------------------------------------------------------------------
# lattices
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lattice:
    """Geometry of a Bravais/hcp lattice, lengths in units of the lattice constant a.

    name; dim (2 or 3); basis (positions in the conventional cell, units of a);
    neighbours: nearest-neighbour vectors of a site (units of a; for hcp those of an
    A-layer atom with the ideal c/a, see ``hcp_neighbours``); volume_per_atom (a³,
    or a² in 2D); nn_distance (a)."""
    name: str
    dim: int
    basis: tuple
    neighbours: np.ndarray
    volume_per_atom: float

    @property
    def z(self):
        """Coordination number (number of nearest neighbours)."""
        return len(self.neighbours)

    @property
    def nn_distance(self):
        """Nearest-neighbour distance (units of a)."""
        return float(np.linalg.norm(self.neighbours, axis=1).min())

    @property
    def atoms_per_cell(self):
        return len(self.basis)


def _perms_of(v):
    """All distinct sign/position permutations of the vector v (3 components)."""
    import itertools
    out = set()
    for p in itertools.permutations(v):
        for signs in itertools.product((1, -1), repeat=3):
            out.add(tuple(s * x for s, x in zip(signs, p)))
    return np.array(sorted(out), dtype=float)


def hcp_neighbours(c_over_a=math.sqrt(8.0 / 3.0)):
    """The 12 nearest-neighbour vectors (units of a) of an atom in the hcp lattice:
    6 in the basal plane at distance a and 3 + 3 in the adjacent planes at in-plane
    distance a/√3 and height ±c/2 (distance a for the ideal c/a = √(8/3))."""
    v = [(math.cos(k * math.pi / 3), math.sin(k * math.pi / 3), 0.0) for k in range(6)]
    r = 1.0 / math.sqrt(3.0)
    for k in range(3):
        ang = math.pi / 6 + 2 * math.pi * k / 3
        for sz in (0.5, -0.5):
            v.append((r * math.cos(ang), r * math.sin(ang), sz * c_over_a))
    return np.array(v)


LATTICES = {
    "square": Lattice("square", 2, ((0.0, 0.0, 0.0),),
                      np.array([(1., 0, 0), (-1., 0, 0), (0, 1., 0), (0, -1., 0)]), 1.0),
    "sc": Lattice("sc", 3, ((0.0, 0.0, 0.0),), _perms_of((1.0, 0.0, 0.0)), 1.0),
    "bcc": Lattice("bcc", 3, ((0.0, 0.0, 0.0), (0.5, 0.5, 0.5)),
                   _perms_of((0.5, 0.5, 0.5)), 0.5),
    "fcc": Lattice("fcc", 3, ((0.0, 0.0, 0.0), (0.5, 0.5, 0.0), (0.5, 0.0, 0.5),
                              (0.0, 0.5, 0.5)), _perms_of((0.5, 0.5, 0.0)), 0.25),
    "hcp": Lattice("hcp", 3, ((0.0, 0.0, 0.0), (0.5, 0.5 / math.sqrt(3.0), 0.5)),
                   hcp_neighbours(), math.sqrt(3.0) / 4.0 * math.sqrt(8.0 / 3.0)),
}
_MC_LATTICES = ("square", "sc", "bcc", "fcc")


def lattice(name):
    """The ``Lattice`` called name ("square", "sc", "bcc", "fcc", "hcp")."""
    try:
        return LATTICES[str(name).lower()]
    except KeyError:
        raise ValueError(f"unknown lattice {name!r}; choose one of {tuple(LATTICES)}") \
            from None


def neighbour_table(name, L):
    """Periodic nearest-neighbour table of L×L(×L) conventional cells.

    Returns (nbr, positions): nbr (N, z) int32 site indices, positions (N, 3) in units
    of a. Sites are numbered in C order over (cell i, j, k, basis atom). Supported: square, sc, bcc, fcc (the cubic lattices are built on a grid
    of spacing a/2, where all their sites and neighbour vectors are integers).
    """
    lat = lattice(name)
    if lat.name not in _MC_LATTICES:
        raise ValueError(f"Monte Carlo lattices are {_MC_LATTICES}; got {name!r}")
    L = int(L)
    if L < 2 or (lat.name == "sc" and L < 3) or (lat.name == "square" and L < 3):
        raise ValueError(f"lattice size L must be >= 3 (sc, square) or >= 2 (bcc, fcc); "
                         f"got {L}")
    basis2 = np.rint(2 * np.array(lat.basis)).astype(np.int64)
    nn2 = np.rint(2 * lat.neighbours).astype(np.int64)
    G = 2 * L
    if lat.dim == 2:
        cells = np.stack(np.meshgrid(np.arange(L), np.arange(L), [0], indexing="ij"),
                         axis=-1).reshape(-1, 3)
        shape = (G, G, 1)
    else:
        cells = np.stack(np.meshgrid(np.arange(L), np.arange(L), np.arange(L),
                                     indexing="ij"), axis=-1).reshape(-1, 3)
        shape = (G, G, G)
    p2 = (2 * cells[:, None, :] + basis2[None, :, :]).reshape(-1, 3)
    N = p2.shape[0]
    lookup = -np.ones(shape, dtype=np.int64)
    lookup[p2[:, 0], p2[:, 1], p2[:, 2]] = np.arange(N)
    q = p2[:, None, :] + nn2[None, :, :]
    q[..., 0] %= shape[0]
    q[..., 1] %= shape[1]
    q[..., 2] %= shape[2]
    nbr = lookup[q[..., 0], q[..., 1], q[..., 2]]
    if np.any(nbr < 0):   # pragma: no cover - geometry bug guard
        raise RuntimeError("neighbour table construction failed")
    return np.ascontiguousarray(nbr, dtype=np.int32), p2 / 2.0


# ---------------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------------
def _blocks(x, nb):
    """Means of nb consecutive equal blocks of the leading axis (tail dropped)."""
    n = (x.shape[0] // nb) * nb
    return x[:n].reshape((nb, n // nb) + x.shape[1:]).mean(axis=1)


def _jackknife(block_means, fn):
    """(estimate, error) of fn(means) over the block means (nb, k): estimate from the
    grand mean, error from the nb leave-one-out estimates."""
    nb = block_means.shape[0]
    full = fn(block_means.mean(axis=0))
    tot = block_means.sum(axis=0)
    loo = np.array([fn((tot - block_means[i]) / (nb - 1)) for i in range(nb)])
    err = math.sqrt((nb - 1) / nb * np.sum((loo - loo.mean()) ** 2))
    return float(full), float(err)


@dataclass
class Sample:
    """Measurements at one temperature. SI units: T (K); m = ⟨|m|⟩, mz = ⟨m_z⟩,
    binder dimensionless; chi_par, chi_zero_field (m/A); energy (J per spin); heat_capacity (J/K per spin);
    each with an ``_err`` (one standard error). m_series (n, 3) moment per spin and
    e_series (n,) energy per spin (J) are the raw measurements."""
    T: float
    L: int
    N: int
    lattice: str
    model: str
    sweeps: int
    acceptance: float
    m: float
    m_err: float
    mz: float
    mz_err: float
    m2: float
    m4: float
    binder: float
    binder_err: float
    chi_par: float
    chi_par_err: float
    chi_zero_field: float
    chi_zero_field_err: float
    energy: float
    energy_err: float
    heat_capacity: float
    heat_capacity_err: float
    m_series: np.ndarray = field(repr=False, default=None)
    e_series: np.ndarray = field(repr=False, default=None)


def _analyse(T, m_vec, e_red, N, J, mu_atom, blocks, ncomp):
    """Observables and errors from the series m_vec (n,3) and reduced e (n,)."""
    if m_vec.shape[0] < 2 * blocks:
        raise ValueError(f"need at least {2 * blocks} measurements for {blocks} blocks; "
                         f"got {m_vec.shape[0]}")
    a = np.sqrt(np.einsum("ij,ij->i", m_vec, m_vec))
    a2 = a * a
    cols = np.column_stack([a, a2, a2 * a2, e_red, e_red * e_red, m_vec[:, 2]])
    bm = _blocks(cols, blocks)
    beta = 1.0 / (KB * T)                   # 1/J
    t_red = KB * T / J                      # dimensionless
    chi_fac = MU0 * mu_atom * N * beta      # m/A
    out = {}
    out["m"], out["m_err"] = _jackknife(bm, lambda v: v[0])
    out["mz"], out["mz_err"] = _jackknife(bm, lambda v: v[5])
    out["m2"] = float(bm[:, 1].mean())
    out["m4"] = float(bm[:, 2].mean())
    out["binder"], out["binder_err"] = _jackknife(bm, lambda v: 1 - v[2] / (3 * v[1] ** 2))
    out["chi_par"], out["chi_par_err"] = _jackknife(
        bm, lambda v: chi_fac * (v[1] - v[0] ** 2))
    out["chi_zero_field"], out["chi_zero_field_err"] = _jackknife(
        bm, lambda v: chi_fac * v[1] / ncomp)
    e, de = _jackknife(bm, lambda v: v[3])
    out["energy"], out["energy_err"] = e * J, de * J
    c, dc = _jackknife(bm, lambda v: N * (v[4] - v[3] ** 2) / t_red ** 2)
    out["heat_capacity"], out["heat_capacity_err"] = c * KB, dc * KB
    return out


# ---------------------------------------------------------------------------------
# the simulation object
# ---------------------------------------------------------------------------------
def _positive(name, value, unit):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number ({unit}); got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be > 0 ({unit}); got {value!r}")
    return v


class MonteCarlo:
    """Metropolis Monte Carlo of classical spins on a periodic lattice (serial).

    Parameters
    ----------
    lattice : "square" (2D), "sc", "bcc" or "fcc".
    L : cells per side (N = L², L³, 2L³ or 4L³ spins).
    model : "heisenberg", "xy" or "ising".
    J : exchange energy of a bond of unit spins (J), > 0 ferromagnetic, in
        H = -J Σ_<ij> s_i·s_j (each pair once). Default k_B·1 K, i.e. T in K equals
        the reduced temperature k_B T/J.
    mu_atom : atomic moment μ_at (J/T), used for the field and the susceptibilities.
    H : applied field along z (A/m); Zeeman energy -μ_at μ0 H s^z per spin (must be 0
        for "xy", whose spins lie in the xy plane).
    seed : integer seed of the xoshiro256+ generator (reproducible runs).
    initial : "ordered" (all spins along +z, or +x for XY) or "random".
    move : "uniform" (new direction uniform on the sphere/circle) or "adaptive"
        (small steps tuned during thermalisation; Heisenberg and XY only).
    """

    def __init__(self, lattice="sc", L=8, model="heisenberg", J=KB, mu_atom=MU_B,
                 H=0.0, seed=0, initial="ordered", move="uniform"):
        self.model = str(model).lower()
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}; got {model!r}")
        self.nbr, self.positions = neighbour_table(lattice, L)
        self.lattice = LATTICES[str(lattice).lower()].name
        self.L = int(L)
        self.N = self.nbr.shape[0]
        self.J = _positive("J", J, "J")
        self.mu_atom = _positive("mu_atom", mu_atom, "J/T")
        self.H = float(H)
        if not math.isfinite(self.H):
            raise ValueError(f"H must be finite (A/m); got {H!r}")
        if self.model == "xy" and self.H != 0.0:
            raise ValueError("the XY model takes no field along z (H must be 0 A/m)")
        if move not in ("uniform", "adaptive"):
            raise ValueError(f"move must be 'uniform' or 'adaptive'; got {move!r}")
        if move == "adaptive" and self.model == "ising":
            raise ValueError("move='adaptive' needs vector spins (heisenberg or xy)")
        self.move = move
        self.step = 0.5                      # adaptive step δ (dimensionless)
        self.state = _k.seed_state(seed)
        self.seed = seed
        self.reset(initial)

    # -- state ------------------------------------------------------------------
    def reset(self, initial="ordered"):
        """Reset the spins: "ordered" (along +z; +x for XY) or "random"."""
        if initial not in ("ordered", "random"):
            raise ValueError(f"initial must be 'ordered' or 'random'; got {initial!r}")
        N = self.N
        if self.model == "ising":
            if initial == "ordered":
                self.spins = np.ones(N, dtype=np.int8)
            else:
                r = _k.uniform_doubles(self.state, N)
                self.spins = np.where(r < 0.5, 1, -1).astype(np.int8)
            return
        self.spins = np.zeros((N, 3))
        if initial == "ordered":
            self.spins[:, 0 if self.model == "xy" else 2] = 1.0
        elif self.model == "xy":
            phi = 2 * np.pi * _k.uniform_doubles(self.state, N)
            self.spins[:, 0], self.spins[:, 1] = np.cos(phi), np.sin(phi)
        else:
            z = 2 * _k.uniform_doubles(self.state, N) - 1
            phi = 2 * np.pi * _k.uniform_doubles(self.state, N)
            rho = np.sqrt(1 - z * z)
            self.spins[:] = np.column_stack([rho * np.cos(phi), rho * np.sin(phi), z])

    @property
    def ncomp(self):
        """Number of spin components n (3 Heisenberg, 2 XY, 1 Ising)."""
        return {"heisenberg": 3, "xy": 2, "ising": 1}[self.model]

    @property
    def h_reduced(self):
        """Reduced field μ_at μ0 H / J (dimensionless)."""
        return self.mu_atom * MU0 * self.H / self.J

    def energy(self):
        """Total energy of the current configuration (J)."""
        if self.model == "ising":
            return _k.ising_energy_moment(self.spins, self.nbr, self.h_reduced)[0] * self.J
        return _k.vector_energy_moment(self.spins, self.nbr, self.h_reduced)[0] * self.J

    def magnetisation(self):
        """Moment per spin m = (1/N) Σ s_i of the current configuration (3-vector)."""
        if self.model == "ising":
            return np.array([0.0, 0.0, self.spins.mean()])
        return self.spins.mean(axis=0)

    # -- dynamics -----------------------------------------------------------------
    def _beta(self, T):
        T = _positive("temperature T", T, "K")
        return self.J / (KB * T)

    def _run(self, beta, nsweeps, every, out_m, out_e):
        if self.model == "ising":
            return _k.ising_sweeps(self.spins, self.nbr, beta, self.h_reduced, nsweeps,
                                   every, self.state, out_m, out_e)
        ncomp = 2 if self.model == "xy" else 3
        move = 1 if self.move == "adaptive" else 0
        return _k.vector_sweeps(self.spins, self.nbr, beta, self.h_reduced, ncomp, move,
                                self.step, nsweeps, every, self.state, out_m, out_e)

    def sweep(self, T, n=1):
        """n Metropolis sweeps at temperature T (K) without measuring; returns the
        acceptance rate (accepted trials / N n). With move="adaptive" the step is
        retuned after every chunk of sweeps towards 50 % acceptance."""
        beta = self._beta(T)
        n = int(n)
        m0, e0 = np.empty((0, 3)), np.empty(0)
        if self.move != "adaptive":
            return self._run(beta, n, 1, m0, e0) / (self.N * max(n, 1))
        acc_tot, done = 0, 0
        chunk = max(1, min(50, n // 20 or 1))
        while done < n:
            k = min(chunk, n - done)
            acc = self._run(beta, k, 1, m0, e0)
            rate = acc / (self.N * k)
            # multiplicative tuning towards 0.5 acceptance, δ in [1e-3, 2]
            self.step = float(np.clip(self.step * (0.5 + rate), 1e-3, 2.0))
            acc_tot += acc
            done += k
        return acc_tot / (self.N * max(n, 1))

    def sample(self, T, sweeps, thermalise=None, every=1, blocks=20, keep_series=False):
        """Thermalise (default: sweeps // 5 sweeps) then measure every ``every`` sweeps
        for ``sweeps`` sweeps at T (K). Returns a ``Sample`` (SI units, error bars from
        ``blocks`` blocks). The adaptive step, if any, is frozen while measuring."""
        beta = self._beta(T)
        sweeps = int(sweeps)
        every = int(every)
        therm = sweeps // 5 if thermalise is None else int(thermalise)
        if therm > 0:
            self.sweep(T, therm)
        nmeas = sweeps // every
        out_m = np.empty((nmeas, 3))
        out_e = np.empty(nmeas)
        acc = self._run(beta, nmeas * every, every, out_m, out_e)
        obs = _analyse(float(T), out_m, out_e, self.N, self.J, self.mu_atom, blocks,
                       self.ncomp)
        return Sample(T=float(T), L=self.L, N=self.N, lattice=self.lattice,
                      model=self.model, sweeps=nmeas * every,
                      acceptance=acc / (self.N * nmeas * every),
                      m_series=out_m if keep_series else None,
                      e_series=out_e * self.J if keep_series else None, **obs)

    def attempts_per_second(self, T, sweeps=200, clock="wall"):
        """Measured spin-flip attempts per second (1/s) of ``sweeps`` sweeps at T (K)
        on this process (after one warm-up sweep, so compilation is not timed).
        clock="wall" divides by elapsed time, clock="cpu" by this process's CPU time
        (the per-core rate even on a loaded machine)."""
        if clock not in ("wall", "cpu"):
            raise ValueError(f"clock must be 'wall' or 'cpu'; got {clock!r}")
        timer = time.perf_counter if clock == "wall" else time.process_time
        self.sweep(T, 1)
        beta = self._beta(T)
        m0, e0 = np.empty((0, 3)), np.empty(0)
        t0 = timer()
        self._run(beta, int(sweeps), 1, m0, e0)
        return self.N * int(sweeps) / (timer() - t0)


# ---------------------------------------------------------------------------------
# scans over temperature, Binder crossings, Curie temperature
# ---------------------------------------------------------------------------------
_OBS = ("m", "mz", "binder", "chi_par", "chi_zero_field", "energy", "heat_capacity")


@dataclass
class Scan:
    """A temperature scan at one size: T (K) and, per temperature, each observable of
    ``Sample`` with its error (arrays; same units as Sample), plus acceptance."""
    lattice: str
    model: str
    L: int
    N: int
    T: np.ndarray
    m: np.ndarray
    m_err: np.ndarray
    mz: np.ndarray
    mz_err: np.ndarray
    binder: np.ndarray
    binder_err: np.ndarray
    chi_par: np.ndarray
    chi_par_err: np.ndarray
    chi_zero_field: np.ndarray
    chi_zero_field_err: np.ndarray
    energy: np.ndarray
    energy_err: np.ndarray
    heat_capacity: np.ndarray
    heat_capacity_err: np.ndarray
    acceptance: np.ndarray


def _derived_seed(seed, *keys):
    ss = np.random.SeedSequence([int(seed) & 0xFFFFFFFF] + [int(k) for k in keys])
    return int(ss.generate_state(2, dtype=np.uint32).view(np.uint64)[0])


def temperature_scan(lattice, L, T, model="heisenberg", J=KB, mu_atom=MU_B, H=0.0,
                     sweeps=10000, thermalise=None, every=1, blocks=20, seed=0,
                     move="uniform", comm=None):
    """Independent Monte Carlo runs at the temperatures T (K), each from the ordered
    state with its own seed derived from (seed, L, index). Returns a ``Scan``.

    sweeps: measuring sweeps per temperature; thermalise: sweeps before measuring
    (default sweeps // 5). comm: optional MPI communicator; the temperatures are then
    shared round-robin among its ranks and the results gathered on all ranks
    (identical to a serial run). Other parameters as ``MonteCarlo``."""
    T = np.atleast_1d(np.asarray(T, dtype=float))
    if T.ndim != 1 or T.size == 0 or not np.all(np.isfinite(T)) or np.any(T <= 0):
        raise ValueError("temperatures T must be a non-empty 1-d array of values > 0 K")
    rank, size = (0, 1) if comm is None else (comm.rank, comm.size)
    local = {}
    code = MODELS.index(str(model).lower()) if str(model).lower() in MODELS else 0
    for i in range(rank, T.size, size):
        mc = MonteCarlo(lattice, L, model, J=J, mu_atom=mu_atom, H=H,
                        seed=_derived_seed(seed, L, i, code), move=move)
        local[i] = mc.sample(T[i], sweeps, thermalise=thermalise, every=every,
                             blocks=blocks)
    if comm is not None and size > 1:
        merged = {}
        for part in comm.allgather(local):
            merged.update(part)
        local = merged
    samples = [local[i] for i in range(T.size)]
    s0 = samples[0]
    arrays = {}
    for name in _OBS:
        arrays[name] = np.array([getattr(s, name) for s in samples])
        arrays[name + "_err"] = np.array([getattr(s, name + "_err") for s in samples])
    return Scan(lattice=s0.lattice, model=s0.model, L=s0.L, N=s0.N, T=T.copy(),
                acceptance=np.array([s.acceptance for s in samples]), **arrays)


def binder_crossing(small, large, window=2, n_boot=400, seed=0):
    """Temperature (K) where the Binder cumulants of two scans (same T grid) cross,
    and its error (K).

    The difference d(T) = U4_small − U4_large goes from < 0 (ordered side) to > 0.
    Among its sign changes the one nearest the steepest descent of U4_large is used
    (far from Tc both cumulants approach the same limit and d is noise); a straight
    line is fitted (weights 1/σ²) through ``window`` points on each side and its root
    returned. The error is half the 68 % (16th–84th percentile) spread of the root over
    ``n_boot`` parametric bootstrap replicas (d_i + σ_i ξ, ξ standard normal, fixed
    seed) — robust against replicas with a nearly flat difference.
    Raises ValueError if the cumulants do not cross inside the grid."""
    T = np.asarray(small.T, dtype=float)
    if not np.array_equal(T, np.asarray(large.T, dtype=float)):
        raise ValueError("binder_crossing: the two scans need the same temperatures")
    if T.size < 2:
        raise ValueError("binder_crossing: need at least two temperatures")
    d = small.binder - large.binder
    sd = np.sqrt(small.binder_err ** 2 + large.binder_err ** 2)
    sd = np.where(sd > 0, sd, np.max(sd) if np.max(sd) > 0 else 1.0)
    changes = np.nonzero((d[:-1] < 0) & (d[1:] >= 0))[0]
    if changes.size == 0:
        raise ValueError(f"binder_crossing: the cumulants of L={small.L} and L={large.L} "
                         f"do not cross between {T[0]:g} K and {T[-1]:g} K")
    if changes.size > 1:
        slope = -np.gradient(large.binder, T) if T.size > 2 else np.ones(T.size)
        mid = 0.5 * (T[changes] + T[changes + 1])
        Tsteep = T[int(np.argmax(slope))]
        i0 = int(changes[np.argmin(np.abs(mid - Tsteep))])
    else:
        i0 = int(changes[0])
    lo, hi = max(0, i0 + 1 - window), min(T.size, i0 + 1 + window)
    Tw, dw, sw = T[lo:hi], d[lo:hi], sd[lo:hi]
    Tm = Tw.mean()

    def root(dv):
        p = np.polyfit(Tw - Tm, dv, 1, w=1.0 / sw)
        if p[0] == 0:
            return np.nan
        return Tm - p[1] / p[0]

    Tc = float(root(dw))
    rng = np.random.default_rng(seed)
    boots = np.array([root(dw + sw * rng.standard_normal(dw.size)) for _ in range(n_boot)])
    boots = boots[np.isfinite(boots)]
    lo16, hi84 = np.percentile(boots, [15.865, 84.135])
    return Tc, float(0.5 * (hi84 - lo16))


@dataclass
class CurieResult:
    """Curie temperature from Binder crossings. Tc, Tc_err (K): crossing of the two
    largest sizes; crossings: list of (L_small, L_large, Tc, err) for all pairs;
    scans: {L: Scan}."""
    Tc: float
    Tc_err: float
    crossings: list
    scans: dict


def curie_temperature(lattice, sizes, T, model="heisenberg", J=KB, sweeps=20000,
                      thermalise=None, seed=0, window=2, comm=None, move="uniform",
                      blocks=20):
    """Curie temperature (K) from the Binder-cumulant crossings of 2 or more sizes.

    Runs ``temperature_scan`` for each L in ``sizes`` on the temperatures T (K; a
    window around Tc) and returns a ``CurieResult``. Parameters as temperature_scan."""
    sizes = sorted(int(L) for L in sizes)
    if len(sizes) < 2:
        raise ValueError("curie_temperature needs at least two lattice sizes")
    scans = {L: temperature_scan(lattice, L, T, model=model, J=J, sweeps=sweeps,
                                 thermalise=thermalise, seed=seed, comm=comm, move=move,
                                 blocks=blocks)
             for L in sizes}
    crossings = []
    for a in range(len(sizes)):
        for b in range(a + 1, len(sizes)):
            tc, err = binder_crossing(scans[sizes[a]], scans[sizes[b]], window=window)
            crossings.append((sizes[a], sizes[b], tc, err))
    best = [c for c in crossings if c[0] == sizes[-2] and c[1] == sizes[-1]][0]
    return CurieResult(Tc=best[2], Tc_err=best[3], crossings=crossings, scans=scans)


# ---------------------------------------------------------------------------------
# equilibrium curves for the LLB equation
# ---------------------------------------------------------------------------------
_TABLE_CLS = None


def _table_class():
    """A subclass of femag.mean_field.TabulatedEquilibrium carrying the Monte-Carlo
    arrays and error bars (imported lazily); a plain stand-in if that is missing."""
    global _TABLE_CLS
    if _TABLE_CLS is not None:
        return _TABLE_CLS
    try:
        from .mean_field import TabulatedEquilibrium as _Base
    except ImportError:   # pragma: no cover - mean_field is part of the package
        _Base = object

    class MonteCarloEquilibrium(_Base):
        """Monte-Carlo equilibrium curves usable as ``Material(equilibrium=...)``.

        Attributes: T (K), m_e (1), chi_par (m/A), Tc (K) and their errors m_e_err,
        chi_par_err, Tc_err; scan (the Scan of size L) and curie (CurieResult or None).
        chi_par is the finite-size longitudinal susceptibility
        μ0 μ_at N β(⟨m²⟩ − ⟨|m|⟩²) below Tc and the zero-field response
        μ0 μ_at N β ⟨m²⟩/n (n spin components) above.
        """

        def __init__(self, T, m_e, chi_par, Tc, m_e_err, chi_par_err, Tc_err, scan,
                     curie):
            if _Base is not object:
                super().__init__(T, m_e, chi_par, Tc)
            self.T = np.asarray(T, dtype=float)
            self.m_e = np.asarray(m_e, dtype=float)
            self.chi_par = np.asarray(chi_par, dtype=float)
            self.Tc = float(Tc)
            self.m_e_err = np.asarray(m_e_err, dtype=float)
            self.chi_par_err = np.asarray(chi_par_err, dtype=float)
            self.Tc_err = float(Tc_err)
            self.scan = scan
            self.curie = curie

    _TABLE_CLS = MonteCarloEquilibrium
    return _TABLE_CLS


def equilibrium_curves(J, lattice, T, L=12, model="heisenberg", mu_atom=MU_B,
                       sweeps=5000, thermalise=None, seed=0, Tc=None, refine=True,
                       refine_sweeps=None, move="adaptive", comm=None):
    """Monte-Carlo m_e(T), χ∥(T) and Tc for the LLB equation.

    Parameters
    ----------
    J : exchange energy of a bond of unit spins (J), e.g. ``multiscale.exchange_...``
        (H = -J Σ_<ij> s_i·s_j, J > 0 ferromagnetic).
    lattice : "sc", "bcc", "fcc" (or "square").
    T : increasing temperatures (K), > 0, spanning the range the simulation needs and
        crossing Tc.
    L : cells per side of the measured system; m_e and χ∥ are those of size L.
    model, mu_atom (J/T): as ``MonteCarlo``; mu_atom sets χ∥ in m/A.
    sweeps, thermalise : measuring / thermalising sweeps per temperature.
    Tc : Curie temperature (K) if known; otherwise it is found from the Binder crossing
        of sizes L and L//2 on the grid T and, if ``refine``, again on 7 temperatures
        within ±3 % of that estimate (``refine_sweeps`` sweeps, default 4·sweeps),
        re-centred (at most twice) while the crossing falls outside the inner ±2 %.
    move : trial move (default "adaptive": efficient far below Tc).
    comm : optional MPI communicator sharing the temperatures among ranks.

    Returns a ``MonteCarloEquilibrium`` — a subclass of
    ``femag.mean_field.TabulatedEquilibrium`` (accepted by the LLB module as
    ``material.equilibrium``) with arrays T (K), m_e, chi_par (m/A), their errors, and
    Tc, Tc_err (K).
    """
    T = np.asarray(T, dtype=float)
    J = _positive("J", J, "J")
    scan = temperature_scan(lattice, L, T, model=model, J=J, mu_atom=mu_atom,
                            sweeps=sweeps, thermalise=thermalise, seed=seed, move=move,
                            comm=comm)
    curie = None
    Tc_err = 0.0
    if Tc is None:
        Ls = max(2 if lattice in ("bcc", "fcc") else 3, L // 2)
        small = temperature_scan(lattice, Ls, T, model=model, J=J, mu_atom=mu_atom,
                                 sweeps=sweeps, thermalise=thermalise, seed=seed + 1,
                                 move=move, comm=comm)
        Tc, Tc_err = binder_crossing(small, scan)
        curie = CurieResult(Tc, Tc_err, [(Ls, L, Tc, Tc_err)], {Ls: small, L: scan})
        if refine:
            rs = 4 * sweeps if refine_sweeps is None else int(refine_sweeps)
            for k in range(3):
                Tw = Tc * np.linspace(0.97, 1.03, 7)
                curie = curie_temperature(lattice, (Ls, L), Tw, model=model, J=J,
                                          sweeps=rs, seed=seed + 2 + k, comm=comm,
                                          move=move)
                # accept when the crossing lies in the inner 4 % of the 6 % window,
                # otherwise re-centre once or twice
                inside = abs(curie.Tc / Tc - 1) < 0.02
                Tc, Tc_err = curie.Tc, curie.Tc_err
                if inside:
                    break
    else:
        Tc = _positive("Tc", Tc, "K")
    chi = np.where(T < Tc, scan.chi_par, scan.chi_zero_field)
    chi_err = np.where(T < Tc, scan.chi_par_err, scan.chi_zero_field_err)
    cls = _table_class()
    return cls(T, np.clip(scan.m, 0.0, 1.0), chi, Tc, scan.m_err, chi_err, Tc_err, scan,
               curie)
