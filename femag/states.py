"""Initial magnetisation states: callables x (3, n) in m → m (3, n), for ``sim.m = ...``.

    sim.m = femag.states.bloch_wall(normal=(1, 0, 0), easy_axis=(0, 1, 0), width=10e-9)

All lengths are in metres. Every function returns a plain callable, evaluated by
:meth:`femag.Simulation.set_m` at the P1 nodes (which normalises it for LLG).

Walls (180°, tanh profile). With s = (x − x0)·n the distance along the wall normal n
(x0 = ``position`` n), the domain direction u on the −n side, the direction c of m in
the wall centre (c ⊥ u) and the width parameter Δ (m),

    m(s) = −tanh(s/Δ) u + sech(s/Δ) c,

the exact 1D wall of exchange A and uniaxial anisotropy K has Δ = sqrt(A/K) (wall
width πΔ, Lilley). Bloch: c = ±(n × u), m rotates in the wall plane (m·n = 0).
Néel: c = ±n, m rotates through the wall normal. Transverse and vortex walls are the
head-to-head walls of strips and tubes (u = ±n); vortex states suit disks and rings.
"""
from __future__ import annotations

import numpy as np

__all__ = ["uniform", "tanh_wall", "bloch_wall", "neel_wall", "transverse_wall",
           "strip_vortex_wall", "tube_vortex_wall", "vortex", "onion"]


def _unit(v, what):
    a = np.asarray(v, dtype=float).reshape(-1)
    if a.shape != (3,) or not np.all(np.isfinite(a)) or np.linalg.norm(a) == 0:
        raise ValueError(f"{what} must be a finite non-zero 3-vector, got {v!r}")
    return a / np.linalg.norm(a)


def _positive(value, what):
    if not (isinstance(value, (int, float, np.floating)) and np.isfinite(value) and value > 0):
        raise ValueError(f"{what} must be a positive length in m, got {value!r}")
    if value > 1e-3:
        raise ValueError(f"{what} = {value!r} m is implausibly large: lengths are in metres "
                         f"(10 nm = 10e-9)")
    return float(value)


def _sign(value, what):
    if value not in (1, -1):
        raise ValueError(f"{what} must be +1 or -1, got {value!r}")
    return float(value)


def _point(p, what="center"):
    a = np.asarray(p, dtype=float).reshape(-1)
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise ValueError(f"{what} must be a 3-vector in m, got {p!r}")
    return a


def _perpendicular(v, to, what):
    """v with its component along the unit vector `to` removed, normalised."""
    w = v - np.dot(v, to) * to
    if np.linalg.norm(w) < 1e-6:
        raise ValueError(f"{what} must not be parallel to {tuple(np.round(to, 6))}")
    return w / np.linalg.norm(w)


def _azimuthal(x, center, axis):
    """Unit vectors axis × ρ̂ (3, n) around the line through `center` along `axis`, and ρ (n,)."""
    d = x - center[:, None]
    d = d - axis[:, None] * (axis @ d)
    rho = np.linalg.norm(d, axis=0)
    phi = np.cross(axis, d.T).T / np.where(rho > 0, rho, 1.0)
    return phi, rho


def _normalized(v, fallback):
    """Columns of v (3, n) normalised; zero columns replaced by `fallback` (3,)."""
    length = np.linalg.norm(v, axis=0)
    small = length < 1e-12
    v = v / np.where(small, 1.0, length)
    v[:, small] = fallback[:, None]
    return v


def uniform(direction):
    """m = direction everywhere."""
    u = _unit(direction, "direction")
    return lambda x: np.tile(u[:, None], (1, x.shape[1]))


def tanh_wall(normal=(1, 0, 0), m_left=(0, 1, 0), m_center=(0, 0, 1), width=5e-9, position=0.0):
    """A 180° wall m = −tanh(s/Δ) u + sech(s/Δ) c with s = x·n − position (m).

    Parameters
    ----------
    normal : 3-vector
        Wall normal n (the direction along which m varies).
    m_left : 3-vector
        Domain direction u at s → −∞ (the +n side has −u).
    m_center : 3-vector or callable
        Direction c of m at the wall centre; a callable x (3, n) → (3, n) gives a
        position-dependent centre direction (vortex walls). Made perpendicular to u.
    width : float
        Δ in m (tanh width parameter; Lilley width πΔ).
    position : float
        Wall centre along n in m.
    """
    n = _unit(normal, "normal")
    u = _unit(m_left, "m_left")
    delta = _positive(width, "width")
    x0 = float(position)
    if callable(m_center):
        center_of = m_center
    else:
        c = _perpendicular(_unit(m_center, "m_center"), u, "m_center")
        center_of = None

    def m(x):
        s = (n @ x[:3] - x0) / delta
        c_x = np.tile(c[:, None], (1, x.shape[1])) if center_of is None else \
            np.asarray(center_of(x), dtype=float).reshape(3, -1)
        c_x = c_x - u[:, None] * (u @ c_x)  # keep the centre direction ⊥ u
        # unit length except where a callable centre direction vanishes (tube axis)
        return _normalized(-np.tanh(s) * u[:, None] + c_x / np.cosh(s), u)

    return m


def bloch_wall(normal=(1, 0, 0), easy_axis=(0, 1, 0), width=5e-9, position=0.0, chirality=1):
    """Bloch wall: m rotates in the wall plane, centre direction c = chirality · (n × u).

    `easy_axis` u (the −n-side domain direction) must not be parallel to the normal n.
    Width Δ and position in m."""
    n = _unit(normal, "normal")
    u = _perpendicular(_unit(easy_axis, "easy_axis"), n, "easy_axis")
    c = _sign(chirality, "chirality") * np.cross(n, u)
    return tanh_wall(n, u, c, width, position)


def neel_wall(normal=(1, 0, 0), easy_axis=(0, 1, 0), width=5e-9, position=0.0, chirality=1):
    """Néel wall: m rotates through the wall normal, centre direction c = chirality · n.

    `easy_axis` u must not be parallel to n. Width Δ and position in m."""
    n = _unit(normal, "normal")
    u = _perpendicular(_unit(easy_axis, "easy_axis"), n, "easy_axis")
    return tanh_wall(n, u, _sign(chirality, "chirality") * n, width, position)


def transverse_wall(axis=(1, 0, 0), transverse=(0, 1, 0), width=10e-9, position=0.0,
                    head_to_head=True):
    """Head-to-head (or tail-to-tail) transverse wall in a strip or tube along `axis`.

    m = ±axis in the domains (+axis on the −axis side for head-to-head), `transverse`
    (made ⊥ axis) at the centre; Δ = `width` (m), centre at `position` (m) along axis."""
    a = _unit(axis, "axis")
    left = a if head_to_head else -a
    return tanh_wall(a, left, _perpendicular(_unit(transverse, "transverse"), a, "transverse"),
                     width, position)


def tube_vortex_wall(axis=(0, 0, 1), center=(0, 0, 0), width=10e-9, position=0.0,
                     circulation=1, head_to_head=True):
    """Vortex (azimuthal) wall in a nanotube along `axis` through `center` (m).

    In the wall m curls around the tube, c = circulation · (axis × ρ̂)."""
    a = _unit(axis, "axis")
    p = _point(center)
    sign = _sign(circulation, "circulation")
    left = a if head_to_head else -a
    return tanh_wall(a, left, lambda x: sign * _azimuthal(x, p, a)[0], width, position)


def strip_vortex_wall(axis=(1, 0, 0), film_normal=(0, 0, 1), center=(0, 0, 0),
                      radius=20e-9, circulation=1, polarity=1, core_radius=5e-9,
                      head_to_head=True):
    """Head-to-head vortex wall in a flat strip along `axis` with a vortex at `center` (m).

    Inside ~`radius` (m, about half the strip width) m curls around `film_normal`
    (circulation ±1) with an out-of-plane core (polarity ±1, `core_radius` m);
    outside it blends into the domains ±axis."""
    a = _unit(axis, "axis")
    z = _perpendicular(_unit(film_normal, "film_normal"), a, "film_normal")
    p = _point(center)
    r_v = _positive(radius, "radius")
    r_c = _positive(core_radius, "core_radius")
    c_sign, p_sign = _sign(circulation, "circulation"), _sign(polarity, "polarity")
    left = a if head_to_head else -a

    def m(x):
        phi, rho = _azimuthal(x, p, z)
        s = a @ (x - p[:, None])
        g = np.exp(-(rho / r_v) ** 2)
        core = p_sign * np.exp(-(rho / r_c) ** 2)
        vort = c_sign * phi * np.sqrt(np.clip(1 - core ** 2, 0, 1)) + core * z[:, None]
        dom = -np.tanh(s / r_v) * left[:, None]
        v = g * vort + (1 - g) * dom
        # on the domain mid-plane far from the vortex dom vanishes: fall back to the curl
        small = np.linalg.norm(v, axis=0) < 1e-6
        v[:, small] = vort[:, small]
        return _normalized(v, z)

    return m


def vortex(center=(0, 0, 0), axis=(0, 0, 1), circulation=1, polarity=1, core_radius=5e-9):
    """Vortex state for disks, rings and tubes: m = c·(axis × ρ̂) cos θ + p·axis sin θ
    with the core profile sin θ = exp(−(ρ/r_c)²), r_c = `core_radius` (m).

    For rings (no core) the core lies in the hole and does not matter."""
    a = _unit(axis, "axis")
    p = _point(center)
    c_sign, p_sign = _sign(circulation, "circulation"), _sign(polarity, "polarity")
    r_c = _positive(core_radius, "core_radius")

    def m(x):
        phi, rho = _azimuthal(x, p, a)
        core = np.exp(-(rho / r_c) ** 2)
        return _normalized(c_sign * phi * np.sqrt(1 - core ** 2) + p_sign * core * a[:, None],
                           p_sign * a)

    return m


def onion(direction=(1, 0, 0), center=(0, 0, 0), axis=(0, 0, 1), wall_width=10e-9):
    """Onion state of a ring (or curved strip) about `center` with plane normal `axis`.

    m follows the ring, pointing along `direction` on both halves, with a head-to-head
    and a tail-to-tail transverse wall where the ring crosses the line through `center` along `direction`
    (width `wall_width`, m, on the ring's arc length)."""
    a = _unit(axis, "axis")
    d = _perpendicular(_unit(direction, "direction"), a, "direction")
    p = _point(center)
    w = _positive(wall_width, "wall_width")
    side = np.cross(a, d)  # the in-plane direction ⊥ d

    def m(x):
        phi, _ = _azimuthal(x, p, a)
        y = side @ (x - p[:, None])
        t = np.tanh(y / w)
        # φ̂ points along −d on the +side half and along +d on the other: −t φ̂ is +d on
        # both; in the walls (y ≈ 0) m turns through the radial direction ±d
        return _normalized(-t * phi + (1 - np.abs(t)) * d[:, None], d)

    return m
