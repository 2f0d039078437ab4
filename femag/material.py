"""Materials: magnetic parameters in SI units, checked on construction.

A :class:`Material` holds the parameters of one magnetic region. A simulation maps
mesh regions (Gmsh physical-volume names or tags) to materials and stores every
parameter as a cell-wise constant (DG0) function, so that regions may differ.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

#: Gyromagnetic ratio of the electron times μ0, γ = 2.211e5 m/(A·s) (OOMMF/mumax3 value).
GAMMA_DEFAULT = 2.211e5

#: Vacuum permeability in T·m/A (N/A²).
MU0 = 4e-7 * math.pi


class MaterialError(ValueError):
    """A material parameter that cannot be right (wrong sign, NaN, wrong shape, unit slip)."""


def _unit_vector(name, value):
    try:
        v = np.asarray(value, dtype=float).reshape(3)
    except (TypeError, ValueError):
        raise MaterialError(f"{name} must be a 3-vector, got {value!r}") from None
    n = float(np.linalg.norm(v))
    if not np.all(np.isfinite(v)) or n == 0.0:
        raise MaterialError(f"{name} must be a finite, non-zero 3-vector, got {value!r}")
    return tuple(v / n)


@dataclass
class Material:
    """Parameters of one magnetic material (SI units).

    Parameters
    ----------
    Ms : float
        Saturation magnetisation in A/m (at T = 0 for LLB). Must be > 0.
    A : float
        Exchange stiffness in J/m (≥ 0). Energy density A |∇m|².
    alpha : float
        Gilbert damping (dimensionless, ≥ 0).
    gamma : float
        Gyromagnetic ratio in m/(A·s) (γ = μ0 γe = 2.211e5 by default).
    Ku : float
        Uniaxial anisotropy constant in J/m³; energy density Ku (1 − (m·axis)²).
        Positive: easy axis; negative: easy plane.
    axis : 3-vector
        Uniaxial axis (normalised here).
    Kc1 : float
        First cubic anisotropy constant in J/m³; energy density
        Kc1 (m1² m2² + m2² m3² + m3² m1²) in the crystal axes.
    axes : pair of 3-vectors
        The first two cubic axes (the third is their cross product); made orthonormal.
    D_int : float
        Interfacial DMI constant in J/m²; energy density D (m_z ∇·m − (m·∇) m_z).
    D_bulk : float
        Bulk DMI constant in J/m²; energy density D m·(∇×m).
    Tc : float, optional
        Curie temperature in K (LLB only).
    llb_lambda : float, optional
        LLB coupling to the bath λ (dimensionless, LLB only).
    spin : float or None
        Quantum spin S for a Brillouin mean field; None: classical (Langevin).
    mu_atom : float, optional
        Atomic moment in Bohr magnetons (LLB susceptibilities; None: 1 μB).
    anisotropy_model : str
        LLB anisotropy K(T): "chi-perp" (from χ⊥) or "callen-callen" (m_e³).
    equilibrium : object, optional
        Tabulated m_e(T), χ∥(T) replacing the mean-field curves (LLB), e.g. from
        :func:`femag.multiscale.equilibrium_curves` ("monte-carlo").
    """

    Ms: float
    A: float = 0.0
    alpha: float = 0.5
    gamma: float = GAMMA_DEFAULT
    Ku: float = 0.0
    axis: tuple = (0.0, 0.0, 1.0)
    Kc1: float = 0.0
    axes: tuple = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    D_int: float = 0.0
    D_bulk: float = 0.0
    Tc: float | None = None
    llb_lambda: float | None = None
    spin: float | None = None
    mu_atom: float | None = None
    anisotropy_model: str = "chi-perp"
    equilibrium: object = field(default=None, repr=False)

    def __post_init__(self):
        def number(name, low=None, strict=False, unit=""):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
                raise MaterialError(f"Material {name} must be a number{unit}, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise MaterialError(f"Material {name} must be finite, got {value!r}")
            if low is not None and (value <= low if strict else value < low):
                rel = ">" if strict else "≥"
                raise MaterialError(f"Material {name} must be {rel} {low}{unit}, got {value!r}")
            setattr(self, name, value)

        number("Ms", 0.0, strict=True, unit=" (A/m)")
        number("A", 0.0, unit=" (J/m)")
        number("alpha", 0.0)
        number("gamma", 0.0, strict=True, unit=" (m/(A·s))")
        for name, unit in (("Ku", " (J/m³)"), ("Kc1", " (J/m³)"),
                           ("D_int", " (J/m²)"), ("D_bulk", " (J/m²)")):
            number(name, unit=unit)
        # Unit slips: Ms in T or kA/m, A in pJ/m show up as implausible magnitudes.
        if self.Ms < 1e3:
            raise MaterialError(
                f"Material Ms = {self.Ms:g} A/m is implausibly small: Ms is in A/m "
                f"(permalloy 8.6e5). Was it given in T (μ0Ms) or kA/m?")
        if self.Ms > 1e7:
            raise MaterialError(f"Material Ms = {self.Ms:g} A/m is implausibly large (A/m expected)")
        if self.A > 1e-9:
            raise MaterialError(f"Material A = {self.A:g} J/m is implausibly large: A is in J/m "
                                f"(permalloy 1.3e-11)")
        if not 0.5e5 < self.gamma < 1e6:
            raise MaterialError(f"Material gamma = {self.gamma:g} is not in m/(A·s) "
                                f"(default 2.211e5; γ in rad/(s·T) is 1.76e11)")
        self.axis = _unit_vector("Material axis", self.axis)
        try:
            a1, a2 = (np.asarray(a, dtype=float).reshape(3) for a in self.axes)
        except (TypeError, ValueError):
            raise MaterialError(f"Material axes must be two 3-vectors, got {self.axes!r}") from None
        a1 = np.asarray(_unit_vector("Material axes[0]", a1))
        a2 = a2 - np.dot(a2, a1) * a1
        if np.linalg.norm(a2) < 1e-6:
            raise MaterialError("Material axes must be two non-parallel 3-vectors")
        self.axes = (tuple(a1), _unit_vector("Material axes[1]", a2))
        if self.Tc is not None:
            number("Tc", 0.0, strict=True, unit=" (K)")
        if self.llb_lambda is not None:
            number("llb_lambda", 0.0, strict=True)
        if self.anisotropy_model not in ("chi-perp", "callen-callen"):
            raise MaterialError(f"Material anisotropy_model must be 'chi-perp' or "
                                f"'callen-callen', got {self.anisotropy_model!r}")

    @property
    def exchange_length(self):
        """l_ex = sqrt(2A/(μ0 Ms²)) in m."""
        return math.sqrt(2.0 * self.A / (MU0 * self.Ms ** 2))

    def as_dict(self):
        """Plain parameters for info.json (the tabulated equilibrium left out)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "equilibrium"}


#: Scalar parameters stored as DG0 functions, with units for messages and docs.
SCALAR_PARAMETERS = {"Ms": "A/m", "A": "J/m", "alpha": "", "gamma": "m/(A·s)",
                     "Ku": "J/m³", "Kc1": "J/m³", "D_int": "J/m²", "D_bulk": "J/m²"}


def region_materials(mesh, materials):
    """Map every mesh region tag to a Material (collective-safe, pure).

    `materials` is one Material (all regions) or a dict keyed by region name or tag.
    Raises MaterialError naming a region that has no material, or a key that is no region.
    """
    tags = sorted(set(mesh.regions.values()))
    if isinstance(materials, Material):
        return {t: materials for t in tags}
    if not isinstance(materials, dict):
        raise MaterialError(f"materials must be a femag.Material or a dict region -> Material, "
                            f"got {type(materials).__name__}")
    by_tag = {}
    for key, mat in materials.items():
        if not isinstance(mat, Material):
            raise MaterialError(f"material for region {key!r} must be a femag.Material, "
                                f"got {type(mat).__name__}")
        try:
            tag = mesh.region_tag(key)
        except KeyError as err:
            raise MaterialError(str(err.args[0])) from None
        by_tag[tag] = mat
    missing = [t for t in tags if t not in by_tag]
    if missing:
        names = {v: k for k, v in mesh.regions.items()}
        raise MaterialError("no material for region(s) " + ", ".join(
            f"{names.get(t, t)!r} (tag {t})" for t in missing))
    return by_tag
