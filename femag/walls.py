"""Analysis of a domain wall in a (relaxed) simulation: position, width, type, energy.

    info = femag.walls.analyze(sim, normal=(1, 0, 0))
    info.position, info.width, info.kind, info.energy_per_area   # m, m, str, J/m²

Every function is collective and returns the same numbers on every rank: the owned
nodal values (coordinate, lumped volume w_i = ∫ φ_i dx, m_i) are gathered on all
ranks and sorted by coordinate, so the result does not depend on the partition
(memory: 8 floats per node on every rank).

Definitions (s = x·n is the coordinate along the wall normal n, in m):

- domain axis u: the direction of (m̄_left − m̄_right), from the cross-section averages
  over the outer 10 % of the sample on either side;
- position s0 and width Δ: weighted least-squares fit of m_i·u = c0 − c1 tanh((s_i − s0)/Δ)
  over all nodes (weights w_i); Δ is the tanh width parameter (Lilley width πΔ);
- rotation axis ω̂ ∝ Σ m̄ × dm̄ (along the cross-section averaged profile m̄(s)):
  ±n for a Bloch wall, ⊥ n for a Néel wall; its sign is the wall's chirality;
- transverse part T_i = m_i − (m_i·u) u near the centre, weights g_i = w_i sech²((s_i−s0)/Δ):
  coherence C = |Σ g T| / Σ g |T| (1 when the wall's rotation plane is the same over the
  whole cross-section, lower when it varies through the thickness or across the width),
  Néel angle ψ = atan2(|Σ g T·n|, |Σ g T·(n×u)|) (0: Bloch, π/2: Néel);
- kind: "asymmetric" when C < 0.85 (e.g. LaBonte's asymmetric Bloch wall, whose Néel
  caps point opposite ways at the two surfaces), otherwise "bloch" (ψ < π/4) or "neel".
  Head-to-head walls (u ∥ n, strips and tubes) are "transverse" (C ≥ 0.85) or "vortex";
- energy per area σ = (E − E_uniform)/area in J/m², with E_uniform by default the mean
  energy of the exactly uniform states ±u and the area the cross-section at s0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import ufl
from mpi4py import MPI

from . import compat

#: Below this coherence of the transverse magnetisation a wall is "asymmetric"/"vortex".
COHERENCE_THRESHOLD = 0.85

__all__ = ["WallInfo", "analyze", "position", "nodal_data", "profile", "fit_tanh", "cross_section_area",
           "wall_energy", "cell_energies",
           "local_energy_per_area", "COHERENCE_THRESHOLD"]


@dataclass
class WallInfo:
    """Result of :func:`analyze` (SI units; also readable as ``info["width"]``)."""

    position: float  #: wall centre s0 along the normal (m)
    width: float  #: tanh width parameter Δ (m); Lilley width πΔ
    kind: str  #: "bloch", "neel", "asymmetric" (u ⊥ n); "transverse", "vortex" (u ∥ n)
    energy_per_area: float  #: σ = (E − E_uniform)/area (J/m²)
    normal: np.ndarray = field(repr=False)  #: unit wall normal n
    domain_axis: np.ndarray = field(repr=False)  #: unit u (domain direction on the −n side)
    rotation_axis: np.ndarray = field(repr=False)  #: unit ω̂ ∝ Σ m̄ × dm̄ (chirality)
    neel_angle: float = float("nan")  #: ψ (rad): 0 Bloch, π/2 Néel (nan when u ∥ n)
    coherence: float = 1.0  #: C = |Σ g T| / Σ g |T| (1: one rotation plane)
    amplitude: float = 1.0  #: c1 of the fit (1 for saturated domains)
    area: float = float("nan")  #: cross-section at s0 (m²)
    energy: float = float("nan")  #: E of the wall state (J)
    uniform_energy: float = float("nan")  #: E_uniform (J)

    @property
    def lilley_width(self):
        """πΔ in m."""
        return math.pi * self.width

    def __getitem__(self, key):
        return getattr(self, key)

    def as_dict(self):
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}


def _unit(v, what):
    a = np.asarray(v, dtype=float).reshape(-1)
    if a.shape != (3,) or not np.all(np.isfinite(a)) or np.linalg.norm(a) == 0:
        raise ValueError(f"{what} must be a finite non-zero 3-vector, got {v!r}")
    return a / np.linalg.norm(a)


def _lumped_volumes(sim):
    """Owned lumped nodal volumes w_i = ∫ φ_i dx (m³), cached on the simulation."""
    w = getattr(sim, "_wall_lumped_volumes", None)
    if w is None:
        v = ufl.TestFunction(sim.V)
        vec = compat.assemble_vector(compat.dolfinx.fem.form(v[0] * ufl.dx))
        w = vec.getArray().reshape(-1, 3)[:, 0].copy()
        sim._wall_lumped_volumes = w
    return w


def nodal_data(sim, function=None):
    """(x (N, 3) m, w (N,) m³, values (N, 3)) over all nodes of the mesh, the same on
    every rank, sorted by coordinate (collective). `function` defaults to sim.m."""
    n = sim.n_owned
    local = np.hstack([sim.node_coordinates()[:n], _lumped_volumes(sim)[:, None],
                       sim.nodal(sim.m if function is None else function)])
    data = np.vstack(sim.comm.allgather(local))
    data = data[np.lexsort((data[:, 2], data[:, 1], data[:, 0]))]
    return data[:, :3], data[:, 3], data[:, 4:7]


def _mesh_spacing(sim, n_nodes):
    return (sim.volume / max(n_nodes, 1)) ** (1.0 / 3.0)


def _binned(s, w, values, spacing):
    """Volume-weighted averages of `values` (N, k) on hat functions of width `spacing`
    along s: returns bin centres (m), averages (nb, k) and volume per bin (m³)."""
    lo, hi = s.min(), s.max()
    nb = max(2, int(round((hi - lo) / spacing)) + 1)
    delta = (hi - lo) / (nb - 1) if hi > lo else 1.0
    f = (s - lo) / delta
    k = np.clip(np.floor(f).astype(int), 0, nb - 2)
    frac = f - k
    sums = np.zeros((nb, values.shape[1]))
    vol = np.zeros(nb)
    for idx, h in ((k, 1 - frac), (k + 1, frac)):
        np.add.at(sums, idx, (w * h)[:, None] * values)
        np.add.at(vol, idx, w * h)
    keep = vol > 0
    return lo + delta * np.arange(nb)[keep], sums[keep] / vol[keep, None], vol[keep]


def profile(sim, normal=(1, 0, 0), spacing=None, function=None):
    """Cross-section averaged profile along the normal (collective).

    Returns (s (nb,) in m, m̄ (nb, 3)): volume-weighted averages of `function` (default
    sim.m) on hat functions of width `spacing` (m; default the mean node spacing)."""
    n = _unit(normal, "normal")
    x, w, m = nodal_data(sim, function)
    spacing = spacing or _mesh_spacing(sim, len(x))
    s, mbar, _ = _binned(x @ n, w, m, spacing)
    return s, mbar


def fit_tanh(s, y, weights=None, guess=None):
    """Least-squares fit y ≈ c0 − c1 tanh((s − s0)/Δ); returns (s0, Δ, c0, c1), s and Δ in m.

    `guess` = (s0, Δ) starts the fit (default from the moments of 1 − y²)."""
    from scipy.optimize import least_squares
    s, y = np.asarray(s, float), np.asarray(y, float)
    w = np.ones_like(s) if weights is None else np.asarray(weights, float)
    sqrt_w = np.sqrt(w / w.mean())
    if guess is None:
        order = np.argsort(s)
        bump = np.clip(1 - y[order] ** 2, 0, None)
        area = np.trapz(bump, s[order])
        if not area > 0:
            raise ValueError("no wall found: m·u does not change sign along the normal")
        guess = (np.trapz(bump * s[order], s[order]) / area, max(area / 2, 1e-12))
    scale = abs(guess[1])

    def residual(p):
        s0, d, c0, c1 = p[0] * scale, p[1] * scale, p[2], p[3]
        return sqrt_w * (c0 - c1 * np.tanh((s - s0) / d) - y)

    sol = least_squares(residual, [guess[0] / scale, 1.0, 0.0, 1.0], x_scale="jac",
                        xtol=1e-12, ftol=1e-12)
    s0, d, c0, c1 = sol.x[0] * scale, sol.x[1] * scale, sol.x[2], sol.x[3]
    if d < 0:
        d, c1 = -d, -c1
    return float(s0), float(d), float(c0), float(c1)


def cross_section_area(sim, normal, position, length):
    """Cross-section of the magnet at s = position (m) normal to `normal`, in m²:
    ∫ g dx / ∫ g ds with the window g = sech²((s − position)/length) (collective).

    Exact for prisms along the normal; `length` (m) sets the averaging window."""
    n = _unit(normal, "normal")
    x, _, _ = nodal_data(sim)
    s = x @ n
    mesh = sim.mesh.mesh
    c = [compat.dolfinx.fem.Constant(mesh, float(v)) for v in (position, length)]
    xs = ufl.SpatialCoordinate(mesh)
    arg = (ufl.dot(ufl.as_vector(tuple(n)), xs) - c[0]) / c[1]
    g = 1.0 / ufl.cosh(arg) ** 2
    form = compat.dolfinx.fem.form(g * ufl.dx(metadata={"quadrature_degree": 6}))
    volume = sim.comm.allreduce(compat.dolfinx.fem.assemble_scalar(form), op=MPI.SUM)
    line = length * (math.tanh((s.max() - position) / length) - math.tanh((s.min() - position) / length))
    return volume / line


def wall_energy(sim, direction, uniform_energy=None):
    """(E, E_uniform) in J: the energy of the current state and, unless given, the mean
    energy of the uniform states ±direction (sim.m is restored afterwards; collective)."""
    energy = sim.energy()
    if uniform_energy is None:
        saved = sim.m.x.array.copy()
        values = []
        for sign in (1.0, -1.0):
            sim.set_m(sign * np.asarray(direction, float))
            values.append(sim.energy())
        sim.m.x.array[:] = saved
        uniform_energy = 0.5 * (values[0] + values[1])
    return energy, float(uniform_energy)


def _locate(sim, normal, easy_axis, mask=None):
    """Gathered nodal data (s, w, m), the averaged profile (sb, mbar), the domain axis u
    and the tanh fit (s0, delta, c1) as a namespace (collective)."""
    n = _unit(normal, "normal")
    x, w, m = nodal_data(sim)
    if mask is not None:
        keep = np.asarray(mask(x), bool)
        if not keep.any():
            raise ValueError("the mask selects no nodes")
        x, w, m = x[keep], w[keep], m[keep]
    s = x @ n
    span = s.max() - s.min()
    if not span > 0:
        raise ValueError("the mesh has no extent along the wall normal")
    spacing = _mesh_spacing(sim, len(x))
    sb, mbar, _ = _binned(s, w, m, spacing)
    if easy_axis is None:
        edge = 0.1 * span
        left = mbar[sb <= s.min() + edge].mean(axis=0)
        right = mbar[sb >= s.max() - edge].mean(axis=0)
        if np.linalg.norm(left - right) < 0.5:
            raise ValueError(f"no 180° wall along normal {tuple(n)}: the averaged m at the "
                             f"two ends is {np.round(left, 3)} and {np.round(right, 3)}")
        u = _unit(left - right, "domain axis")
    else:
        u = _unit(easy_axis, "easy_axis")
        if np.dot(mbar[0], u) < 0:  # u is the −n side's domain direction
            u = -u
    yb = mbar @ u
    bump = np.clip(1 - yb ** 2, 0, None)
    bump_area = np.trapz(bump, sb)
    if not bump_area > 0:
        raise ValueError(f"no wall found along normal {tuple(n)}: m·u does not change")
    guess = (np.trapz(bump * sb, sb) / bump_area, max(bump_area / 2, spacing / 4))
    s0, delta, _, c1 = fit_tanh(s, m @ u, w, guess)
    return SimpleNamespace(n=n, s=s, w=w, m=m, sb=sb, mbar=mbar, u=u, s0=s0, delta=delta,
                           c1=c1, spacing=spacing)


def position(sim, normal=(1, 0, 0), easy_axis=None, mask=None):
    """(s0, Δ) in m: the wall centre along `normal` and its tanh width (collective, cheap:
    no energies; use it to follow a moving wall). `mask` as in :func:`analyze`."""
    fit = _locate(sim, normal, easy_axis, mask)
    return fit.s0, fit.delta


def analyze(sim, normal=(1, 0, 0), easy_axis=None, uniform_energy=None, area=None, mask=None):
    """Measure the domain wall of `sim` along `normal` (collective, same on all ranks).

    Parameters
    ----------
    normal : 3-vector
        Wall normal n (the sample must extend well beyond the wall along n).
    easy_axis : 3-vector, optional
        Domain axis u; default from the averaged m at the two ends (see module docstring).
    uniform_energy : float, optional
        E_uniform in J (e.g. from a relaxed single-domain run); default: mean energy of
        the exactly uniform states ±u.
    area : float, optional
        Cross-section in m² (default: measured at the wall centre).
    mask : callable, optional
        Nodes (N, 3) in m → bool: measure the wall only there (e.g. away from the ends
        of a strip); the energy is still that of the whole sample.

    Returns
    -------
    WallInfo with position (m), width Δ (m), kind, energy_per_area (J/m²), ...
    """
    fit = _locate(sim, normal, easy_axis, mask)
    n, s, w, m, mbar, u, s0, delta = fit.n, fit.s, fit.w, fit.m, fit.mbar, fit.u, fit.s0, fit.delta

    # rotation axis of the averaged profile: Σ m̄_k × (m̄_{k+1} − m̄_k)
    omega = np.sum(np.cross(mbar[:-1], np.diff(mbar, axis=0)), axis=0)
    omega = omega / np.linalg.norm(omega) if np.linalg.norm(omega) > 0 else omega

    g = w / np.cosh(np.clip((s - s0) / delta, -50, 50)) ** 2
    T = m - np.outer(m @ u, u)
    coherence = float(np.linalg.norm(g @ T) / max(g @ np.linalg.norm(T, axis=1), 1e-300))
    head_to_head = abs(np.dot(u, n)) > 0.7
    if head_to_head:
        psi = float("nan")
        kind = "transverse" if coherence >= COHERENCE_THRESHOLD else "vortex"
    else:
        b = np.cross(n, u)
        b /= np.linalg.norm(b)
        psi = math.atan2(abs(g @ (T @ n)), abs(g @ (T @ b)))
        if coherence < COHERENCE_THRESHOLD:
            kind = "asymmetric"
        else:
            kind = "bloch" if psi < math.pi / 4 else "neel"

    if area is None:
        area = cross_section_area(sim, n, s0, max(3 * delta, 4 * fit.spacing))
    energy, e_uniform = wall_energy(sim, u, uniform_energy)
    return WallInfo(position=s0, width=delta, kind=kind,
                    energy_per_area=(energy - e_uniform) / area, normal=n, domain_axis=u,
                    rotation_axis=omega, neel_angle=psi, coherence=coherence, amplitude=fit.c1,
                    area=float(area), energy=energy, uniform_energy=e_uniform)


# --- local energy densities: walls in finite samples ----------------------------------------
def _cell_energy_forms(sim):
    """{term name: form of ∫ w q dx} with q the DG0 test function: per-cell energies (J)."""
    forms = getattr(sim, "_wall_cell_forms", None)
    names = [t.name for t in sim.terms]
    if forms is not None and list(forms)[:-1] == names:
        return forms
    from .material import MU0
    from .term import EnergyTerm
    Q = compat.scalar_space(sim.mesh.mesh, "DG", 0)
    q = ufl.TestFunction(Q)
    forms = {}
    for term in sim.terms:
        if isinstance(term, EnergyTerm):
            w = term.density(sim.m, sim.params)
        else:
            # field terms: Zeeman w = −μ0 Ms m·H is linear in m; demag w = −½ μ0 Ms m·H_d is
            # the self-energy of m's own field (term.H is the P1 field of the last evaluation)
            factor = 0.5 if term.name == "demag" else 1.0
            w = -factor * MU0 * sim.params.Ms * ufl.dot(sim.m, term.H)
        forms[term.name] = compat.dolfinx.fem.form(w * q * ufl.dx)
    forms["_volume"] = compat.dolfinx.fem.form(1.0 * q * ufl.dx)
    sim._wall_cell_forms = forms
    sim._wall_cell_space = Q
    return forms


def cell_energies(sim):
    """(centroids (N, 3) m, volumes (N,) m³, energies (N,) J) of all cells, the same on
    every rank (collective).

    Densities: each EnergyTerm's own; −μ0 Ms m·H for Zeeman and −½ μ0 Ms m·H_d for demag
    with the (projected, P1) fields, so their sum differs from sim.energy() by the
    projection error of H_d (a few 0.1 %)."""
    forms = _cell_energy_forms(sim)
    for term in sim.terms:
        if term.name in forms and not hasattr(term, "density"):
            term.field()  # bring term.H to the current m
    Q = sim._wall_cell_space
    n = Q.dofmap.index_map.size_local
    total = np.zeros(n)
    for name, form in forms.items():
        values = compat.dolfinx.fem.petsc.assemble_vector(form).getArray()[:n]
        if name == "_volume":
            volumes = values
        else:
            total += values
    centroids = compat.interpolation_coordinates(Q)[:n]
    data = np.vstack(sim.comm.allgather(np.column_stack([centroids, volumes, total])))
    data = data[np.lexsort((data[:, 2], data[:, 1], data[:, 0]))]
    return data[:, :3], data[:, 3], data[:, 4]


def local_energy_per_area(sim, normal=(1, 0, 0), mask=None, position=None, core=None,
                          edge=0.15, reference=None):
    """Wall energy per area (J/m²) from local energy densities, for samples whose ends
    carry magnetic charges that a uniform reference state would not share (collective).

    The cells inside `mask` (a callable of centroids (N, 3) → bool; default all) are
    binned along s = x·n into an energy line density e(s) (J/m); the domain density
    e_dom is the mean of e over the outer `edge` fraction at both ends, and
    σ = ∫ (e(s) − e_dom) ds / a with a the masked volume per unit length (m², the
    length between the outermost masked nodes: exact for prisms along n).
    `position`, `core` (m): optional; the ends must lie outside |s − position| < core.
    `reference`: a relaxed wall-free Simulation on the same mesh; then
    σ = Σ_mask (e − e_ref) / a instead (for samples whose ends tilt, e.g. with DMI)."""
    n = _unit(normal, "normal")
    centroids, volumes, energies = cell_energies(sim)
    keep = np.ones(len(energies), bool) if mask is None else np.asarray(mask(centroids), bool)
    if not keep.any():
        raise ValueError("the mask selects no cells")
    s, v, e = centroids[keep] @ n, volumes[keep], energies[keep]
    span = s.max() - s.min()
    lo, hi = s.min() + edge * span, s.max() - edge * span
    if position is not None and core is not None and not (lo < position - core and position + core < hi):
        raise ValueError("the wall core reaches into the domain reference at the ends; "
                         "use a longer sample or a smaller edge fraction")
    outer = (s < lo) | (s > hi)
    e_dom = e[outer].sum() / v[outer].sum()  # energy per volume in the domains (J/m³)
    if reference is not None:
        _, _, e_ref = cell_energies(reference)
        e_dom = e_ref[keep].sum() / v.sum()
    x = nodal_data(sim)[0]
    nodes = x[np.asarray(mask(x), bool)] if mask is not None else x
    length = np.ptp(nodes @ n) if len(nodes) else span
    area = v.sum() / length  # masked cross-section (m²)
    return float((e.sum() - e_dom * v.sum()) / area)
