"""The multiscale parameter bridge: from exchange integrals and atomic moments to the
micromagnetic parameters A, Ms, γ, K, Tc (derivations and references in
docs/multiscale.md).

Conventions (read these first)
------------------------------
* Ferromagnetic Heisenberg model, the convention of this module and of
  ``femag.atomistic``: H = −Σ_<ij> J S_i·S_j, each nearest-neighbour pair counted
  once, **J > 0 ferromagnetic**, J in joules. S is the spin length (classical vector
  of length S, or quantum spin S); for classical unit vectors put S = 1 and let J be
  the bond energy (the atomistic ``MonteCarlo(J=...)`` takes J·S²).
* Superexchange, the convention of the Hubbard-model literature:
  ``superexchange(t, U)`` returns J_AF = 4t²/U > 0 for H = +Σ_<ij> J_AF S_i·S_j,
  i.e. **positive means antiferromagnetic**. In the ferromagnet-positive convention
  above this is J = −J_AF (``to_ferromagnetic_convention``).
* Energies are in joules; eV helpers are named ``*_ev`` / ``ev_to_joule`` /
  ``joule_to_ev``. Lengths in m, A in J/m, Ms in A/m, K in J/m³, γ in rad/(s·T)
  (``gyromagnetic_ratio``) or m/(A·s) (``gamma0`` = μ0 γ, what the LLG/LLB solvers
  use), temperatures in K, moments in Bohr magnetons where the name says ``_bohr``
  and in J/T otherwise.

Formulas
--------
Exchange stiffness (continuum limit of the classical ground-state energy, S² not
S(S+1): the fully polarised ferromagnetic state and its spin-wave stiffness are exact
for the quantum model too: its magnon stiffness D = J S Σ_j r_j²/6 and
Ms = gμ_B S/V_at in A = D Ms/(2gμ_B) give the same S²): expanding −J S² m_i·m_j = const + ½ J S² |m_j − m_i|² with
m_j − m_i ≈ (r_ij·∇) m gives the energy density A_αβ ∂_α m·∂_β m with

    A_αβ = J S² Σ_j r_jα r_jβ / (4 V_at)                       (sum over the z neighbours
                                                              of one atom; V_at volume/atom)

For cubic lattices and ideal hcp Σ_j r_jα r_jβ = δ_αβ z d²/3 (d the nearest-
neighbour distance), so A = z d² J S²/(12 V_at):

    sc  A = J S²/(2a),   bcc  A = J S²/a,   fcc  A = 2 J S²/a   (= n J S²/(2a), n = 1, 2, 4)
    hcp (ideal c/a, a = in-plane constant = d)  A = √2 J S²/a

In the older convention H = −2 J' Σ_<ij> S_i·S_j (Heisenberg, Kittel) J = 2J' and
the same results read A = n J' S²/a.

Saturation magnetisation Ms = n_at μ_at (n_at = 1/V_at atoms per m³, μ_at in J/T).
Gyromagnetic ratio γ = g μ_B/ħ (rad/(s·T)), γ0 = μ0 γ (m/(A·s)).
Uniaxial anisotropy from a per-atom energy −k_at (s·e)²: K = n_at k_at (J/m³).
Exchange length l_ex = √(2A/(μ0 Ms²)) (m); Bloch wall parameter δ0 = √(A/K) and wall
width δ_w = π √(A/K) (m).
Mean-field Curie temperature: classical spins k_B Tc = z J S²/3, quantum spins
k_B Tc = z J S(S+1)/3. Mean-field theory ignores fluctuations and overestimates Tc:
for classical spins the exact (Monte-Carlo) values are k_B Tc/(J S²) = 1.443 (sc),
2.054 (bcc), 3.18 (fcc), i.e. 0.72, 0.77, 0.80 of the mean-field z/3
(``classical_curie_temperature``; femag.atomistic computes them).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, asdict

import numpy as np
from scipy import constants as _const

from .atomistic import CLASSICAL_TC_OVER_J, hcp_neighbours, lattice as _lattice

__all__ = [
    "KB", "MU0", "MU_B", "HBAR", "EV", "G_ELECTRON",
    "ev_to_joule", "joule_to_ev", "superexchange", "superexchange_ev",
    "to_ferromagnetic_convention",
    "atomic_volume", "atomic_density", "exchange_stiffness_tensor", "exchange_stiffness",
    "exchange_from_stiffness", "saturation_magnetisation", "moment_bohr_from_Ms",
    "gyromagnetic_ratio", "gamma0", "anisotropy_density", "exchange_length",
    "wall_parameter", "wall_width", "spin_wave_stiffness", "stiffness_from_spin_wave",
    "mean_field_curie_temperature", "classical_curie_temperature",
    "exchange_from_curie_temperature", "MicromagneticParameters",
    "micromagnetic_parameters",
]

KB = _const.k                                          # J/K
MU0 = _const.mu_0                                      # T·m/A
MU_B = _const.physical_constants["Bohr magneton"][0]   # J/T
HBAR = _const.hbar                                     # J·s
EV = _const.electron_volt                              # J per eV
G_ELECTRON = -_const.physical_constants["electron g factor"][0]   # 2.00231930436 (1)


def _pos(name, v, unit):
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number ({unit}); got {v!r}") from None
    if not math.isfinite(x) or x <= 0:
        raise ValueError(f"{name} must be > 0 ({unit}); got {v!r}")
    return x


# ---------------------------------------------------------------------------------
# energies and superexchange
# ---------------------------------------------------------------------------------
def ev_to_joule(E_ev):
    """Energy in eV → J (scalar or array)."""
    return np.asarray(E_ev, dtype=float) * EV if np.ndim(E_ev) else float(E_ev) * EV


def joule_to_ev(E_joule):
    """Energy in J → eV (scalar or array)."""
    return np.asarray(E_joule, dtype=float) / EV if np.ndim(E_joule) else float(E_joule) / EV


def superexchange(t, U):
    """Kinetic (super)exchange J_AF = 4 t²/U of the half-filled one-band Hubbard model
    (Anderson, Phys. Rev. 115, 2 (1959)), in the units of t and U (J here; see
    ``superexchange_ev``).

    Second-order perturbation theory in t/U: virtual hopping to a doubly occupied site
    (cost U) is possible only for antiparallel neighbours, lowering their energy by
    4t²/U relative to parallel ones. The low-energy Hamiltonian is

        H_eff = +Σ_<ij> J_AF (S_i·S_j − 1/4),   J_AF = 4 t²/U > 0   (antiferromagnetic)

    Sign convention: positive = antiferromagnetic in H = +Σ J S_i·S_j. The
    ferromagnet-positive coupling of femag (H = −Σ J S_i·S_j) is J = −J_AF; see
    ``to_ferromagnetic_convention``. Requires U > 0 and |t| ≪ U for validity (t may
    have either sign; only t² enters).
    """
    t = float(t)
    U = _pos("U (on-site repulsion)", U, "energy")
    if not math.isfinite(t):
        raise ValueError(f"hopping t must be finite; got {t!r}")
    return 4.0 * t * t / U


def superexchange_ev(t_ev, U_ev):
    """``superexchange`` with t and U in eV; returns J_AF = 4t²/U in eV (> 0 AF)."""
    return superexchange(t_ev, U_ev)


def to_ferromagnetic_convention(J_af):
    """Convert a coupling from H = +Σ J_AF S_i·S_j (positive antiferromagnetic, the
    superexchange convention) to femag's H = −Σ J S_i·S_j (positive ferromagnetic):
    J = −J_AF (same units). On bipartite lattices (sc, bcc, square) the classical
    antiferromagnet with J_AF > 0 maps onto the ferromagnet with J = +J_AF by flipping
    one sublattice, so its Néel temperature is the Curie temperature of |J|."""
    return -float(J_af)


# ---------------------------------------------------------------------------------
# lattice geometry
# ---------------------------------------------------------------------------------
def _geometry(lattice, a, c=None):
    """(neighbour vectors in m (z, 3), volume per atom in m³) for a 3D lattice."""
    lat = _lattice(lattice)
    a = _pos("lattice constant a", a, "m")
    if lat.dim != 3:
        raise ValueError(f"bulk parameters need a 3D lattice (sc, bcc, fcc, hcp); "
                         f"got {lattice!r}")
    if lat.name == "hcp":
        c = math.sqrt(8.0 / 3.0) * a if c is None else _pos("c", c, "m")
        return hcp_neighbours(c / a) * a, math.sqrt(3.0) / 4.0 * a * a * c
    if c is not None:
        raise ValueError("c (m) only applies to the hcp lattice")
    return lat.neighbours * a, lat.volume_per_atom * a ** 3


def atomic_volume(lattice, a, c=None):
    """Volume per atom V_at (m³) of lattice "sc" (a³), "bcc" (a³/2), "fcc" (a³/4) or
    "hcp" (√3 a² c/4; c defaults to the ideal √(8/3) a); a, c in m."""
    return _geometry(lattice, a, c)[1]


def atomic_density(lattice, a, c=None):
    """Number of atoms per m³, n_at = 1/V_at (1/m³); a, c in m."""
    return 1.0 / atomic_volume(lattice, a, c)


def exchange_stiffness_tensor(J, lattice, a, S=1.0, c=None):
    """Exchange stiffness tensor A_αβ = J S² Σ_j r_jα r_jβ/(4 V_at) (J/m) of nearest-
    neighbour exchange J (J; H = −Σ_<ij> J S_i·S_j, J > 0 ferromagnetic) and spin
    length S on the lattice ("sc", "bcc", "fcc", "hcp") with constant a (m) (hcp: c in
    m, default ideal). Isotropic (δ_αβ A) for the cubic lattices and ideal hcp."""
    J = float(J)
    S = _pos("spin length S", S, "1")
    r, V = _geometry(lattice, a, c)
    return J * S * S * (r.T @ r) / (4.0 * V)


def exchange_stiffness(J, lattice, a, S=1.0, c=None):
    """Exchange stiffness A (J/m) of nearest-neighbour Heisenberg exchange:
    A = z d² J S²/(12 V_at) = n J S²/(2a), n = 1 (sc), 2 (bcc), 4 (fcc); √2 J S²/a for
    ideal hcp. J in J (H = −Σ_<ij> J S_i·S_j, each pair once, J > 0 ferromagnetic),
    S the spin length (1 for unit classical spins with J the bond energy), a in m.
    For non-ideal hcp this is the mean (trace/3) of ``exchange_stiffness_tensor``."""
    return float(np.trace(exchange_stiffness_tensor(J, lattice, a, S, c)) / 3.0)


def exchange_from_stiffness(A, lattice, a, S=1.0, c=None):
    """Inverse of ``exchange_stiffness``: the nearest-neighbour J (J) giving A (J/m)."""
    A = _pos("A", A, "J/m")
    return A / exchange_stiffness(1.0, lattice, a, S, c)


def saturation_magnetisation(moment_bohr, lattice, a, c=None):
    """Ms = n_at μ_at (A/m) from the moment per atom in Bohr magnetons (μ_B) and the
    atomic density of lattice with constant a (m)."""
    mu = _pos("moment per atom", moment_bohr, "μ_B") * MU_B
    return mu * atomic_density(lattice, a, c)


def moment_bohr_from_Ms(Ms, lattice, a, c=None):
    """Moment per atom (μ_B) from Ms (A/m): inverse of saturation_magnetisation."""
    return _pos("Ms", Ms, "A/m") * atomic_volume(lattice, a, c) / MU_B


def gyromagnetic_ratio(g=G_ELECTRON):
    """γ = g μ_B/ħ (rad/(s·T)) of Landé factor g (free electron: 1.76086e11)."""
    return _pos("g", g, "1") * MU_B / HBAR


def gamma0(g=G_ELECTRON):
    """γ0 = μ0 g μ_B/ħ (m/(A·s)), the gyromagnetic ratio of the LLG/LLB equations with
    fields in A/m (free electron: 2.2128e5 m/(A·s))."""
    return MU0 * gyromagnetic_ratio(g)


def anisotropy_density(k_atom, lattice, a, c=None):
    """Uniaxial anisotropy constant K = n_at k_at (J/m³) of the per-atom energy
    −k_at (s·e)² (k_at in J per atom, > 0 easy axis, < 0 easy plane); a, c in m."""
    k = float(k_atom)
    if not math.isfinite(k):
        raise ValueError(f"k_atom must be finite (J); got {k_atom!r}")
    return k * atomic_density(lattice, a, c)


def exchange_length(A, Ms):
    """Exchange length l_ex = √(2A/(μ0 Ms²)) (m); A in J/m, Ms in A/m."""
    return math.sqrt(2.0 * _pos("A", A, "J/m") / (MU0 * _pos("Ms", Ms, "A/m") ** 2))


def wall_parameter(A, K):
    """Bloch-wall parameter δ0 = √(A/|K|) (m); A in J/m, K in J/m³."""
    return math.sqrt(_pos("A", A, "J/m") / _pos("|K|", abs(float(K)), "J/m³"))


def wall_width(A, K):
    """Bloch-wall width δ_w = π √(A/|K|) (m) (Lilley's definition, the width of the
    linear continuation of the wall profile's central slope); A in J/m, K in J/m³."""
    return math.pi * wall_parameter(A, K)


def spin_wave_stiffness(A, Ms, g=G_ELECTRON):
    """Spin-wave stiffness D = 2 A g μ_B/Ms (J·m²) of ħω = D k² (A in J/m, Ms in A/m).
    1 meV·Å² = 1.602e-42 J·m²."""
    return 2.0 * _pos("A", A, "J/m") * _pos("g", g, "1") * MU_B / _pos("Ms", Ms, "A/m")


def stiffness_from_spin_wave(D, Ms, g=G_ELECTRON):
    """Exchange stiffness A = D Ms/(2 g μ_B) (J/m) from the spin-wave stiffness D
    (J·m²; neutron scattering) and Ms (A/m)."""
    return _pos("D", D, "J·m²") * _pos("Ms", Ms, "A/m") / (2.0 * _pos("g", g, "1") * MU_B)


# ---------------------------------------------------------------------------------
# Curie temperature
# ---------------------------------------------------------------------------------
def _coordination(lattice_or_z):
    if isinstance(lattice_or_z, str):
        return _lattice(lattice_or_z).z
    z = int(lattice_or_z)
    if z <= 0 or z != lattice_or_z:
        raise ValueError(f"coordination number must be a positive integer; got "
                         f"{lattice_or_z!r}")
    return z


def mean_field_curie_temperature(J, lattice, S=1.0, quantum=False):
    """Mean-field (Weiss) Curie temperature (K) of H = −Σ_<ij> J S_i·S_j (J in J,
    J > 0 ferromagnetic), nearest neighbours only; ``lattice`` is a lattice name or the
    coordination number z.

    Classical vectors of length S: k_B Tc = z J S²/3; quantum spin S
    (``quantum=True``): k_B Tc = z J S(S+1)/3. Overestimates the true Tc (classical:
    by 1/0.72 on sc, 1/0.77 on bcc, 1/0.80 on fcc; see classical_curie_temperature).
    The result can be given to ``femag.Material(Tc=...)``; prefer the fluctuation-
    corrected value there (classical_curie_temperature or atomistic Monte Carlo)."""
    J = _pos("J (ferromagnetic)", J, "J")
    S = _pos("spin S", S, "1")
    z = _coordination(lattice)
    s2 = S * (S + 1.0) if quantum else S * S
    return z * J * s2 / (3.0 * KB)


def classical_curie_temperature(J, lattice, S=1.0):
    """Curie temperature (K) of classical Heisenberg spins of length S with nearest-
    neighbour J (J), from the known Monte-Carlo/series values of k_B Tc/(J S²):
    sc 1.4430, bcc 2.054, fcc 3.18 (``femag.atomistic.CLASSICAL_TC_OVER_J``)."""
    J = _pos("J (ferromagnetic)", J, "J")
    S = _pos("spin S", S, "1")
    name = _lattice(lattice).name
    if name not in CLASSICAL_TC_OVER_J:
        raise ValueError(f"no reference Tc for lattice {lattice!r}; run "
                         "femag.atomistic.curie_temperature")
    return CLASSICAL_TC_OVER_J[name] * J * S * S / KB


def exchange_from_curie_temperature(Tc, lattice, S=1.0, method="classical",
                                    quantum=False):
    """Nearest-neighbour J (J) reproducing a measured Curie temperature Tc (K).

    method="classical": inverse of ``classical_curie_temperature`` (classical spins,
    fluctuations included); method="mean-field": inverse of
    ``mean_field_curie_temperature`` (with ``quantum``)."""
    Tc = _pos("Tc", Tc, "K")
    if method == "classical":
        return Tc / classical_curie_temperature(1.0, lattice, S)
    if method == "mean-field":
        return Tc / mean_field_curie_temperature(1.0, lattice, S, quantum)
    raise ValueError(f"method must be 'classical' or 'mean-field'; got {method!r}")


# ---------------------------------------------------------------------------------
# everything at once
# ---------------------------------------------------------------------------------
@dataclass
class MicromagneticParameters:
    """Continuum parameters derived from an atomistic model (SI units):
    A (J/m), Ms (A/m), Ku (J/m³), gamma (rad/(s·T)), gamma0 (m/(A·s)),
    Tc_mean_field (K), Tc_classical (K; None for hcp), exchange_length (m),
    wall_width (m; None if Ku = 0), mu_atom (J/T), atomic_density (1/m³), and the
    inputs J (J), S, lattice, a (m), moment_bohr (μ_B), g, k_atom (J)."""
    A: float
    Ms: float
    Ku: float
    gamma: float
    gamma0: float
    Tc_mean_field: float
    Tc_classical: float
    exchange_length: float
    wall_width: float
    mu_atom: float
    atomic_density: float
    J: float
    S: float
    lattice: str
    a: float
    moment_bohr: float
    g: float
    k_atom: float

    def as_dict(self):
        return asdict(self)

    def material_kwargs(self, Tc="classical"):
        """Keyword arguments for ``femag.Material``: Ms, A, Ku, Tc (the classical
        value unless Tc="mean-field" or a number in K) and mu_atom (J/T)."""
        if Tc == "classical":
            Tcv = self.Tc_classical if self.Tc_classical is not None else self.Tc_mean_field
        elif Tc == "mean-field":
            Tcv = self.Tc_mean_field
        else:
            Tcv = _pos("Tc", Tc, "K")
        return dict(Ms=self.Ms, A=self.A, Ku=self.Ku, Tc=Tcv, mu_atom=self.mu_atom)


def micromagnetic_parameters(J, lattice, a, moment_bohr, S=1.0, g=G_ELECTRON,
                             k_atom=0.0, c=None, quantum=False):
    """All continuum parameters of a nearest-neighbour Heisenberg ferromagnet.

    J : exchange (J), H = −Σ_<ij> J S_i·S_j, J > 0 ferromagnetic (for a coupling from
        ``superexchange`` use to_ferromagnetic_convention).
    lattice : "sc", "bcc", "fcc" or "hcp"; a (m), c (m, hcp only).
    moment_bohr : moment per atom (μ_B). S : spin length (1 = unit classical spins).
    g : Landé factor. k_atom : per-atom uniaxial anisotropy (J). quantum : use
        S(S+1) in the mean-field Tc.
    Returns ``MicromagneticParameters``.
    """
    name = _lattice(lattice).name
    A = exchange_stiffness(J, name, a, S, c)
    Ms = saturation_magnetisation(moment_bohr, name, a, c)
    Ku = anisotropy_density(k_atom, name, a, c)
    Tc_cl = classical_curie_temperature(J, name, S) if name in CLASSICAL_TC_OVER_J else None
    return MicromagneticParameters(
        A=A, Ms=Ms, Ku=Ku, gamma=gyromagnetic_ratio(g), gamma0=gamma0(g),
        Tc_mean_field=mean_field_curie_temperature(J, name, S, quantum),
        Tc_classical=Tc_cl, exchange_length=exchange_length(A, Ms),
        wall_width=wall_width(A, Ku) if Ku != 0 else None,
        mu_atom=float(moment_bohr) * MU_B, atomic_density=atomic_density(name, a, c),
        J=float(J), S=float(S), lattice=name, a=float(a), moment_bohr=float(moment_bohr),
        g=float(g), k_atom=float(k_atom))
