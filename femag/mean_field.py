"""Mean-field thermodynamics behind the Landau–Lifshitz–Bloch (LLB) equation.

The LLB equation (Garanin 1997; Atxitia, Chubykalo-Fesenko et al.; Evans et al.,
PRB 85, 014433 (2012)) evolves the reduced magnetisation m = M / Ms(T=0), whose
length is not fixed:

    dm/dt = -γ m × H + γ α∥ (m·H) m / m² - γ α⊥ m × (m × H) / m²

with H in A/m and γ in m/(A·s) (γ = μ0 |γ_e| ≈ 2.2128e5 m/(A·s) for g = 2).
Everything the equation needs from thermodynamics lives here:

* ``equilibrium_m``      m_e(T), the zero-field equilibrium length (1)
* ``chi_parallel``       χ∥(T) = ∂m/∂H (m/A), longitudinal susceptibility
* ``chi_perpendicular``  χ⊥(T) (m/A), transverse susceptibility
* ``exchange_stiffness`` A(T) = A0 m_e² (J/m)
* ``anisotropy_constant`` K(T) (J/m³)
* ``longitudinal_field`` factor f (A/m) with H_long = f m
* ``llb_damping``        (α∥, α⊥) (1)
* ``longitudinal_relaxation_time`` τ∥ (s), ``transverse_precession`` (Hz, s)

Mean-field model (derivation in docs/llb.md). Each atom carries the moment
μ_at (J/T) and sees the Weiss field: in a field H (A/m)

    m = B(x),   x = (J0 m + μ_at μ0 H) / (k_B T)                           (MF)

with B = L (Langevin, classical spins, ``spin=None``) or B = B_S (Brillouin,
quantum spin S). The small-x slope B(x) ≈ a x, a = 1/3 (classical) or
(S+1)/(3S), fixes J0 = k_B Tc / a, i.e. J0 = 3 k_B Tc (classical) and
3 k_B Tc S/(S+1) (quantum). In zero field this is m = L(3 Tc m / T) or
m = B_S(3S/(S+1) Tc m / T).

Units: T in K, H in A/m, χ in m/A (m reduced and dimensionless), A in J/m,
K in J/m³, Ms in A/m, μ_at in J/T, γ in m/(A·s), times in s, frequencies in Hz.

The ``material`` argument is any object with the attributes Tc (K), spin
(None or S), mu_atom (J/T; None means one Bohr magneton), Ms (A/m at T = 0),
A (J/m at T = 0), Ku (J/m³ at T = 0), llb_lambda (1), anisotropy_model
("chi-perp" or "callen-callen") and equilibrium (None or a
``TabulatedEquilibrium``). Only the attributes a function needs are read.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import constants as _const
from scipy.interpolate import PchipInterpolator
from scipy.optimize import brentq
from numba import njit

__all__ = [
    "MU0", "KB", "MU_B",
    "langevin", "brillouin", "brillouin_derivative",
    "equilibrium_m", "chi_parallel", "chi_perpendicular",
    "exchange_stiffness", "anisotropy_constant", "anisotropy_reduction",
    "longitudinal_field", "llb_damping",
    "longitudinal_relaxation_time", "transverse_precession",
    "equilibrium_length_in_field",
    "TabulatedEquilibrium", "validate_llb_material", "check_temperature",
    "critical_amplitude", "landau_coefficient",
]

MU0 = _const.mu_0                                   # T·m/A
KB = _const.k                                       # J/K
MU_B = _const.physical_constants["Bohr magneton"][0]  # J/T

ANISOTROPY_MODELS = ("chi-perp", "callen-callen")

# ---------------------------------------------------------------------------------
# Langevin and Brillouin functions, accurate for every argument
# ---------------------------------------------------------------------------------
# coth(y) - 1/y = sum_{n>=1} c_n y^(2n-1),  c_n = 2^(2n) B_(2n) / (2n)!   (|y| < π),
# with the Bernoulli numbers B_(2n) computed exactly (fractions) once at import.
_NSER = 20
_SERIES_LIMIT = 1.0  # series used for p·x < 1 (terms shrink like (1/π)^(2n))


def _bernoulli_exact(nmax):
    """Bernoulli numbers B_0..B_nmax as Fractions (B_1 = -1/2 convention)."""
    from fractions import Fraction
    from math import comb
    B = [Fraction(1)]
    for n in range(1, nmax + 1):
        B.append(-sum(comb(n + 1, k) * B[k] for k in range(n)) / Fraction(n + 1))
    return B


def _coth_coefficients(nser):
    from fractions import Fraction
    B = _bernoulli_exact(2 * nser)
    out = []
    for n in range(1, nser + 1):
        out.append(Fraction(2 ** (2 * n)) * B[2 * n] / math.factorial(2 * n))
    return out


_COTH_C = _coth_coefficients(_NSER)


@njit(cache=True)
def _horner(coef, z):
    acc = coef[coef.shape[0] - 1]
    for k in range(coef.shape[0] - 2, -1, -1):
        acc = acc * z + coef[k]
    return acc


@njit(cache=True)
def _csch2(y):
    """1/sinh²(y) for y > 0 without overflow (dimensionless)."""
    e = math.exp(-2.0 * y)
    d = -math.expm1(-2.0 * y)
    return 4.0 * e / (d * d)


# Scalar kernels for x ≥ 0. A spin is described by (p, q, a, co) with
# B(x) = p coth(p x) - q coth(q x), p = (2S+1)/(2S), q = 1/(2S) (q = 0, p = 1: Langevin),
# a = B'(0), and co = rows of series coefficients in z = x²:
#   co[0]: B/x,  co[1]: B',  co[2]: D = a - B/x,  co[3]: E = a - B',  co[4]: F = B/x - B'.
@njit(cache=True)
def _kB(x, p, q, co):
    if p * x < _SERIES_LIMIT:
        return x * _horner(co[0], x * x)
    if q == 0.0:
        return 1.0 / math.tanh(x) - 1.0 / x
    return p / math.tanh(p * x) - q / math.tanh(q * x)


@njit(cache=True)
def _kdB(x, p, q, co):
    if p * x < _SERIES_LIMIT:
        return _horner(co[1], x * x)
    if q == 0.0:
        return 1.0 / (x * x) - _csch2(x)
    return q * q * _csch2(q * x) - p * p * _csch2(p * x)


@njit(cache=True)
def _kD(x, p, q, a, co):
    if p * x < _SERIES_LIMIT:
        z = x * x
        return z * _horner(co[2], z)
    return a - _kB(x, p, q, co) / x


@njit(cache=True)
def _kE(x, p, q, a, co):
    if p * x < _SERIES_LIMIT:
        z = x * x
        return z * _horner(co[3], z)
    return a - _kdB(x, p, q, co)


@njit(cache=True)
def _kF(x, p, q, co):
    """B(x)/x - B'(x) = E - D > 0, accurate for small and large x."""
    if p * x < _SERIES_LIMIT:
        z = x * x
        return z * _horner(co[4], z)
    return _kB(x, p, q, co) / x - _kdB(x, p, q, co)


@njit(cache=True)
def _ksolve(t, p, q, a, c, co):
    """Weiss-field argument x of the zero-field solution m = B(x), x = m/(a t), for a
    reduced temperature 0 < t < 1 (safeguarded Newton). The residual is written as
    D(x) - a(1 - t) near Tc (t ≥ 1/2, where D is small and computed accurately) and as
    a t - B(x)/x at low t (well conditioned where D ≈ a - 1/x is flat)."""
    r = a * (1.0 - t)
    lo = 0.0
    hi = 1.0 / (a * t)                       # B ≥ 1 - 1/x  ⇒  residual ≥ 0 at hi
    if not math.isfinite(hi):
        return math.inf
    near = t >= 0.5
    x1 = min(math.sqrt(r / c), hi)           # near Tc: D ≈ c x²
    x2 = hi                                  # near T = 0: B ≈ 1
    if near:
        h1 = _kD(x1, p, q, a, co) - r
        h2 = _kD(x2, p, q, a, co) - r
    else:
        h1 = a * t - _kB(x1, p, q, co) / x1
        h2 = a * t - _kB(x2, p, q, co) / x2
    x = x1 if abs(h1) < abs(h2) else x2
    for _ in range(300):
        if near:
            h = _kD(x, p, q, a, co) - r
        else:
            h = a * t - _kB(x, p, q, co) / x
        if h < 0.0:
            lo = x
        elif h > 0.0:
            hi = x
        else:
            return x
        dh = _kF(x, p, q, co) / x            # dD/dx = (E - D)/x = F/x > 0
        xn = x - h / dh
        if not (xn > lo and xn < hi):
            xn = 0.5 * (lo + hi)
        if abs(xn - x) <= 4e-16 * xn:
            return xn
        x = xn
    return x


@njit(cache=True)
def _kstate(t, p, q, a, c, co, m, x, g):
    """Fill m_e, x and g = a B'(x)/F(x) (χ∥ = g μ_at μ0/(k_B Tc) below Tc) for reduced
    temperatures t (array); t ≥ 1 gives m = 0, x = 0, g = nan (handled by the caller)."""
    for i in range(t.shape[0]):
        ti = t[i]
        if ti <= 0.0:
            m[i] = 1.0
            x[i] = math.inf
            g[i] = 0.0
        elif ti >= 1.0:
            m[i] = 0.0
            x[i] = 0.0
            g[i] = math.nan
        else:
            xi = _ksolve(ti, p, q, a, c, co)
            x[i] = xi
            if math.isinf(xi):
                m[i] = 1.0
                g[i] = 0.0
            else:
                m[i] = min(a * ti * xi, 1.0)
                g[i] = a * _kdB(xi, p, q, co) / _kF(xi, p, q, co)


@njit(cache=True)
def _kmap(kind, xs, p, q, a, co, out):
    for i in range(xs.shape[0]):
        xi = abs(xs[i])
        if kind == 0:
            v = _kB(xi, p, q, co)
            out[i] = v if xs[i] >= 0 else -v
        elif kind == 1:
            out[i] = _kdB(xi, p, q, co)
        elif kind == 2:
            out[i] = _kD(xi, p, q, a, co)
        elif kind == 3:
            out[i] = _kE(xi, p, q, a, co)
        else:
            out[i] = _kF(xi, p, q, co)


@njit(cache=True)
def _kinverse(ms, p, q, co, out):
    """x with B(x) = m, 0 ≤ m < 1 (safeguarded Newton; B(x) ≥ 1 - 1/x bounds x)."""
    a = co[0][0]
    for i in range(ms.shape[0]):
        m = ms[i]
        if m <= 0.0:
            out[i] = 0.0
            continue
        if m >= 1.0:
            out[i] = math.inf
            continue
        lo = 0.0
        hi = 1.0 / (1.0 - m)
        x = min(m / a, 0.5 * hi)
        for _ in range(300):
            h = _kB(x, p, q, co) - m
            if h < 0.0:
                lo = x
            elif h > 0.0:
                hi = x
            else:
                break
            xn = x - h / _kdB(x, p, q, co)
            if not (xn > lo and xn < hi):
                xn = 0.5 * (lo + hi)
            if abs(xn - x) <= 4e-16 * xn:
                x = xn
                break
            x = xn
        out[i] = x


class _Spin:
    """Langevin (spin None) or Brillouin (spin S) function with its derived quantities;
    vectorised wrappers around the numba kernels (all dimensionless)."""

    def __init__(self, spin):
        from fractions import Fraction
        if spin is None:
            P, Q = Fraction(1), Fraction(0)
            self.S = None
        else:
            twoS = round(2 * float(spin))
            P, Q = Fraction(twoS + 1, twoS), Fraction(1, twoS)
            self.S = twoS / 2
        self.p, self.q = float(P), float(Q)
        P2, Q2 = P * P, Q * Q
        s = [_COTH_C[n - 1] * (P2 ** n - Q2 ** n) for n in range(1, _NSER + 1)]
        self.a = float(s[0])                     # (S+1)/(3S), 1/3 classical
        self.c = float(-s[1])                    # B ≈ a x - c x³
        rows = [
            [float(v) for v in s],                                        # B/x
            [float(s[k] * (2 * k + 1)) for k in range(_NSER)],            # B'
            [float(-s[k]) for k in range(1, _NSER)] + [0.0],              # D
            [float(-s[k] * (2 * k + 1)) for k in range(1, _NSER)] + [0.0],  # E
            [float(-s[k] * (2 * k)) for k in range(1, _NSER)] + [0.0],    # F = E - D
        ]
        self.co = np.array(rows, dtype=float)
        # The exact rational a, c (for critical_amplitude / landau_coefficient).
        self.a_exact, self.c_exact = s[0], -s[1]

    def _map(self, kind, x):
        x = np.asarray(x, dtype=float)
        flat = np.ascontiguousarray(x.ravel())
        out = np.empty_like(flat)
        _kmap(kind, flat, self.p, self.q, self.a, self.co, out)
        return out.reshape(x.shape)

    def B(self, x):
        return self._map(0, x)

    def dB(self, x):
        return self._map(1, x)

    def D(self, x):
        """a - B(x)/x, accurate near x = 0."""
        return self._map(2, x)

    def E(self, x):
        """a - B'(x), accurate near x = 0."""
        return self._map(3, x)

    def F(self, x):
        """B(x)/x - B'(x) = E - D."""
        return self._map(4, x)

    def inverse(self, m):
        m = np.asarray(m, dtype=float)
        flat = np.ascontiguousarray(m.ravel())
        out = np.empty_like(flat)
        _kinverse(flat, self.p, self.q, self.co, out)
        return out.reshape(m.shape)

    def state(self, t):
        """(m_e, x, g) for reduced temperatures t (1-d array), see _kstate."""
        t = np.ascontiguousarray(np.asarray(t, dtype=float).ravel())
        m, x, g = np.empty_like(t), np.empty_like(t), np.empty_like(t)
        _kstate(t, self.p, self.q, self.a, self.c, self.co, m, x, g)
        return m, x, g


_SPIN_CACHE: dict = {}


def _spin_model(spin) -> _Spin:
    key = None if spin is None else float(spin)
    if key not in _SPIN_CACHE:
        _SPIN_CACHE[key] = _Spin(spin)
    return _SPIN_CACHE[key]


def langevin(x):
    """Langevin function L(x) = coth x - 1/x (dimensionless), accurate at small x."""
    return _spin_model(None).B(x)


def brillouin(x, spin):
    """Brillouin function B_S(x) (dimensionless); ``spin=None`` gives L(x)."""
    return _spin_model(spin).B(x)


def brillouin_derivative(x, spin):
    """dB_S/dx (dimensionless); ``spin=None`` gives L'(x)."""
    return _spin_model(spin).dB(x)


def critical_amplitude(spin) -> float:
    """The constant C in m_e² ≈ C (Tc - T)/Tc just below Tc (dimensionless):
    C = a³/c with B(x) ≈ a x - c x³, i.e. 5/3 (classical), 3 (S = 1/2),
    10 (S+1)² / (3 (2S² + 2S + 1)) in general."""
    sp = _spin_model(spin)
    return float(sp.a_exact ** 3 / sp.c_exact)


def landau_coefficient(spin) -> float:
    """ξ in the LLB longitudinal field above Tc, -(1/χ∥)(1 + ξ Tc m²/(T - Tc)) m
    (dimensionless): ξ = c/a³ = 1/critical_amplitude, i.e. 3/5 (classical, the
    value in Garanin's equation) and 1/3 for S = 1/2."""
    sp = _spin_model(spin)
    return float(sp.c_exact / sp.a_exact ** 3)


# ---------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------
def check_temperature(T):
    """Return T (K) as a float array; ValueError if any value is negative or non-finite."""
    arr = np.asarray(T, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"temperature T must be finite (K); got {T!r}")
    if np.any(arr < 0):
        raise ValueError(f"temperature T must be >= 0 K; got min {arr.min()!r}")
    return arr


def _check_spin(spin):
    if spin is None:
        return None
    try:
        S = float(spin)
    except (TypeError, ValueError):
        raise ValueError(f"spin must be None (classical) or a positive multiple of 1/2; "
                         f"got {spin!r}") from None
    twoS = 2.0 * S
    if not math.isfinite(S) or S <= 0 or abs(twoS - round(twoS)) > 1e-9:
        raise ValueError(f"spin must be None (classical) or a positive multiple of 1/2 "
                         f"(0.5, 1, 1.5, ...); got {spin!r}")
    return round(twoS) / 2.0


def _positive(material, name, unit, required=True, default=None):
    value = getattr(material, name, default)
    if value is None:
        if required:
            raise ValueError(f"material parameter {name} ({unit}) is required")
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"material parameter {name} must be a number ({unit}); "
                         f"got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"material parameter {name} must be > 0 ({unit}); got {value!r}")
    return v


class _Params:
    """Validated view of a material (read lazily: only what a function needs)."""

    def __init__(self, material):
        self.material = material
        self.table = getattr(material, "equilibrium", None)
        if self.table is not None and not isinstance(self.table, TabulatedEquilibrium):
            raise ValueError("material parameter equilibrium must be None (mean field) or a "
                             f"TabulatedEquilibrium; got {type(self.table).__name__}")
        Tc = _positive(material, "Tc", "K")
        if self.table is not None:
            if abs(self.table.Tc - Tc) > 1e-6 * Tc:
                warnings.warn(f"material.Tc = {Tc} K differs from the tabulated "
                              f"equilibrium's Tc = {self.table.Tc} K; the table's is used",
                              stacklevel=3)
            Tc = self.table.Tc
        self.Tc = Tc
        self.spin = _check_spin(getattr(material, "spin", None))
        self.sp = _spin_model(self.spin)
        mu = getattr(material, "mu_atom", None)
        self.mu = MU_B if mu is None else _positive(material, "mu_atom", "J/T")

    def lam(self):
        return _positive(self.material, "llb_lambda", "dimensionless")

    def Ms(self):
        return _positive(self.material, "Ms", "A/m")

    def A0(self):
        v = getattr(self.material, "A", None)
        if v is None or not math.isfinite(float(v)) or float(v) < 0:
            raise ValueError(f"material parameter A must be >= 0 (J/m); got {v!r}")
        return float(v)

    def K0(self):
        v = getattr(self.material, "Ku", None)
        if v is None or not math.isfinite(float(v)):
            raise ValueError(f"material parameter Ku must be a finite number (J/m³); got {v!r}")
        return float(v)

    def anisotropy_model(self):
        model = getattr(self.material, "anisotropy_model", None) or "chi-perp"
        if model not in ANISOTROPY_MODELS:
            raise ValueError(f"material parameter anisotropy_model must be one of "
                             f"{ANISOTROPY_MODELS}; got {model!r}")
        return model


def validate_llb_material(material):
    """Check every LLB-related parameter of ``material``; raise ValueError naming the
    offending parameter. Checks Tc > 0 (K), llb_lambda > 0, spin None or a positive
    multiple of 1/2, mu_atom > 0 (J/T) or None (→ one Bohr magneton), Ms > 0 (A/m),
    A ≥ 0 (J/m), Ku finite (J/m³), anisotropy_model, equilibrium."""
    p = _Params(material)
    p.lam()
    p.Ms()
    p.A0()
    p.K0()
    p.anisotropy_model()
    return None


# ---------------------------------------------------------------------------------
# mean-field solution
# ---------------------------------------------------------------------------------
def _unique_eval(T, fn):
    """Evaluate fn on the distinct values of the float array T (saves work when many
    nodes share one temperature) and scatter back."""
    flat = T.ravel()
    if flat.size > 8:
        u, inv = np.unique(flat, return_inverse=True)
        if u.size < flat.size:
            outs = fn(u)
            return tuple(o[inv].reshape(T.shape) for o in outs)
    outs = fn(flat)
    return tuple(o.reshape(T.shape) for o in outs)


def _mf_state(T, p: _Params):
    """Mean-field (m_e, χ∥ in m/A, x) for a float array T (K)."""
    sp, Tc, mu = p.sp, p.Tc, p.mu

    def fn(Tv):
        m, x, g = sp.state(Tv / Tc)
        with np.errstate(divide="ignore"):
            chi = np.where(Tv < Tc, g * mu * MU0 / (KB * Tc),
                           sp.a * mu * MU0 / (KB * np.where(Tv > Tc, Tv - Tc, 0.0)))
        return m, chi, x

    return _unique_eval(T, fn)


def _prepare(T):
    """(T as a 1-d float array, original shape) after check_temperature."""
    arr = check_temperature(T)
    return arr.reshape(-1), arr.shape


def _out(arr, shape):
    arr = np.asarray(arr, dtype=float).reshape(shape)
    return float(arr) if arr.ndim == 0 else arr


def equilibrium_m(T, material):
    """Equilibrium reduced magnetisation m_e(T) = Ms(T)/Ms(0) (dimensionless) for
    T in K (scalar or array); 0 at and above Tc.

    Mean field: the nonzero root of m = L(3 Tc m/T) (``spin=None``) or
    m = B_S(3S/(S+1) Tc m/T), found by safeguarded Newton iteration on the
    Weiss-field argument, accurate to ~1e-15 relative, also near Tc where
    m_e² ≈ C (1 - T/Tc) (C = 5/3 classical, 3 for S = 1/2; see critical_amplitude)
    and near T = 0 where m_e ≈ 1 - T/(3Tc) (classical). If ``material.equilibrium`` is
    a TabulatedEquilibrium its interpolated curve is used instead.
    """
    T, shape = _prepare(T)
    p = _Params(material)
    if p.table is not None:
        return _out(p.table.equilibrium_m(T), shape)
    return _out(_mf_state(T, p)[0], shape)


def chi_parallel(T, material):
    """Longitudinal susceptibility χ∥ = ∂m/∂H at H → 0 (m/A; m reduced, H in A/m).

    Differentiating (MF) at fixed T: dm = B'(x)(J0 dm + μ_at μ0 dH)/(k_B T), so

        χ∥ = μ_at μ0 B'(x) / (k_B T - J0 B'(x))           (T < Tc, x = J0 m_e/(k_B T))
           = a μ_at μ0 / (k_B (T - Tc))                    (T > Tc, Curie–Weiss)

    The T < Tc form is evaluated as a μ_at μ0 B'/(k_B Tc (B/x - B')), with B/x - B'
    summed from its series at small x (no cancellation near Tc), using D(x) = a(1 - T/Tc).
    Just below Tc χ∥ ≈ a μ_at μ0 /(2 k_B (Tc - T)), half the value at the mirror
    temperature above Tc. χ∥(Tc) = inf, χ∥(0) = 0.
    """
    T, shape = _prepare(T)
    p = _Params(material)
    if p.table is not None:
        return _out(p.table.chi_parallel(T), shape)
    return _out(_mf_state(T, p)[1], shape)


def anisotropy_reduction(T, material):
    """Φ(T) = K(T)/K0 (dimensionless) of the selected anisotropy model, 0 at/above Tc.

    "callen-callen": Φ = m_e³.
    "chi-perp" (weak single-ion anisotropy in mean field, docs/llb.md): the anisotropy
    free energy of the mean-field single-spin distribution,
    classical: Φ = 1 - 3 L(x)/x with L(x) = m_e (which in mean field equals 1 - T/Tc),
    spin S ≥ 1: Φ = (3⟨S_z²⟩ - S(S+1))/(S(2S-1)), ⟨S_z²⟩ = S²(B_S' + B_S²),
    S = 1/2 (no single-ion anisotropy exists; two-ion / anisotropic exchange): Φ = m_e².
    With a tabulated χ⊥ the "chi-perp" value is μ0 Ms m_e²/(2 K0 χ⊥).
    """
    T, shape = _prepare(T)
    p = _Params(material)
    return _out(_phi(T, p), shape)


def _phi(T, p: _Params):
    if p.table is not None:
        m = p.table.equilibrium_m(T)
        x = None
    else:
        m, _, x = _mf_state(T, p)
    model = p.anisotropy_model()
    phi = np.zeros_like(T)
    below = T < p.Tc
    if model == "callen-callen":
        phi[below] = m[below] ** 3
        return phi
    if p.table is not None and p.table.has_chi_perp:
        K0 = p.K0()
        if K0 == 0:
            return phi
        chi = p.table.chi_perpendicular(T[below])
        phi[below] = MU0 * p.Ms() * m[below] ** 2 / (2 * K0 * chi)
        return phi
    sp = p.sp
    mb = m[below]
    if x is None:                 # tabulated m_e: invert m = B(x)
        xb = sp.inverse(np.minimum(mb, 1 - 1e-16))
    else:
        xb = x[below]
    if p.spin is None:
        val = 3.0 * sp.D(xb)          # 1 - 3 L(x)/x; → 1 as x → ∞ (T → 0)
    elif p.spin == 0.5:
        val = mb ** 2
    else:
        S = p.spin
        val = 3.0 * S * (sp.B(xb) ** 2 - sp.E(xb)) / (2 * S - 1)
    phi[below] = val
    return phi


def anisotropy_constant(T, material):
    """Uniaxial anisotropy constant K(T) = K0 Φ(T) (J/m³), see anisotropy_reduction.

    Relation to the transverse susceptibility (both models, T < Tc):
    K(T) = μ0 Ms m_e² / (2 χ⊥), i.e. the LLB anisotropy field -m⊥/χ⊥ (A/m) is the
    micromagnetic 2 K(T)/(μ0 Ms m_e²) (m·u) u of a magnet of length m_e. 0 at/above Tc.
    """
    T, shape = _prepare(T)
    p = _Params(material)
    if p.table is not None and p.table.has_chi_perp and p.anisotropy_model() == "chi-perp":
        m = p.table.equilibrium_m(T)
        K = np.zeros_like(T)
        below = T < p.Tc
        K[below] = MU0 * p.Ms() * m[below] ** 2 / (2 * p.table.chi_perpendicular(T[below]))
        return _out(K, shape)
    return _out(p.K0() * _phi(T, p), shape)


def chi_perpendicular(T, material):
    """Transverse susceptibility χ⊥ (m/A), consistent with anisotropy_constant.

    Below Tc the isotropic mean field has a Goldstone mode (χ⊥ = ∞); a finite χ⊥ comes
    from the anisotropy: a transverse field H tilts a magnet of length m_e,
    energy density K(T) sin²θ - μ0 Ms m_e H sinθ, by sinθ = μ0 Ms m_e H/(2K), so
    χ⊥ = m_e ∂sinθ/∂H = μ0 Ms m_e² / (2 K(T)).
    With the "chi-perp" model and classical spins this is μ0 Ms m_e² /(2 K0 (1 - T/Tc)),
    finite at Tc⁻ (5 μ0 Ms/(6 K0)). Above Tc χ⊥ = χ∥ (Curie–Weiss). inf if K0 = 0.
    For K0 < 0 (hard axis) χ⊥ is negative, so that the LLB anisotropy field -m⊥/χ⊥
    (A/m) still equals 2K(T)/(μ0 Ms m_e²)(m·u)u.
    A tabulated χ⊥ (TabulatedEquilibrium with chi_perp) is returned as is ("chi-perp").
    """
    T, shape = _prepare(T)
    p = _Params(material)
    out = np.empty_like(T)
    below = T < p.Tc
    if p.table is not None:
        out[~below] = p.table.chi_parallel(T[~below])
    else:
        out[~below] = _mf_state(T[~below], p)[1]
    if np.any(below):
        Tb = T[below]
        if p.table is not None and p.table.has_chi_perp and p.anisotropy_model() == "chi-perp":
            out[below] = p.table.chi_perpendicular(Tb)
        else:
            K = p.K0() * _phi(Tb, p)
            m = p.table.equilibrium_m(Tb) if p.table is not None else _mf_state(Tb, p)[0]
            nz = K != 0
            out[below] = np.where(nz, MU0 * p.Ms() * m ** 2 / np.where(nz, 2 * K, 1.0), np.inf)
    return _out(out, shape)


def exchange_stiffness(T, material):
    """A(T) = A0 m_e(T)² (J/m); 0 at/above Tc."""
    T, shape = _prepare(T)
    p = _Params(material)
    m = equilibrium_m(T, material)
    return _out(p.A0() * np.asarray(m) ** 2, shape)


def _field_coefficients(T, p: _Params):
    """(m_e, χ∥, b) for the longitudinal field; b = ξ k_B Tc /(a μ_at μ0) (A/m) is the
    cubic coefficient above Tc: (1/χ∥)·ξ Tc/(T - Tc) written with the Curie–Weiss
    (T - Tc) χ∥ = a μ_at μ0 / k_B, finite at Tc."""
    if p.table is not None:
        m = p.table.equilibrium_m(T)
        chi = p.table.chi_parallel(T)
    else:
        m, chi, _ = _mf_state(T, p)
    sp = p.sp
    b = landau_coefficient(p.spin) * KB * p.Tc / (sp.a * p.mu * MU0)
    return m, chi, b


def longitudinal_field(m_sq, T, material):
    """Factor f (A/m) of the LLB longitudinal field H_long = f · m (m reduced).

        T < Tc:  f = (1/(2χ∥)) (1 - m²/m_e²)
        T ≥ Tc:  f = -(1/χ∥) (1 + ξ Tc m²/(T - Tc))     (ξ = 3/5 classical)

    ``m_sq`` = |m|² (array over nodes), ``T`` (K) scalar or array broadcastable to it.
    The T ≥ Tc form is evaluated as -1/χ∥ - ξ k_B Tc m²/(a μ_at μ0), identical in mean
    field (where (T - Tc) χ∥ = a μ_at μ0/k_B), finite at Tc and continuous through Tc:
    both sides tend to -ξ k_B Tc m²/(a μ_at μ0). For spin S, ξ = c/a³ (see
    landau_coefficient). At T = 0 the stiffness is infinite (returns ±inf, 0 at m = 1).
    """
    m_sq = np.asarray(m_sq, dtype=float)
    Tarr = check_temperature(T)
    p = _Params(material)
    m, chi, b = _field_coefficients(Tarr.reshape(-1), p)
    m, chi = m.reshape(Tarr.shape), chi.reshape(Tarr.shape)
    Tb, m_sq_b, m_e, chi = np.broadcast_arrays(Tarr, m_sq, m, chi)
    below = (Tb < p.Tc) & (m_e > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_below = np.where(m_sq_b == m_e ** 2, 0.0,
                           (1.0 - m_sq_b / np.where(below, m_e ** 2, 1.0)) / (2.0 * chi))
        f_above = -1.0 / chi - b * m_sq_b
    f = np.where(below, f_below, f_above)
    return float(f) if f.ndim == 0 else f


def llb_damping(T, material):
    """LLB damping parameters (α∥, α⊥) (dimensionless) for T (K):
    α∥ = 2λT/(3Tc); α⊥ = λ(1 - T/(3Tc)) below Tc and α⊥ = α∥ at and above Tc
    (continuous: both 2λ/3 at Tc). λ = material.llb_lambda. These are the classical
    (Garanin) forms; they are used for every spin value."""
    T, shape = _prepare(T)
    p = _Params(material)
    lam = p.lam()
    t = T / p.Tc
    a_par = 2.0 * lam * t / 3.0
    a_perp = np.where(t < 1, lam * (1.0 - t / 3.0), a_par)
    return _out(a_par, shape), _out(a_perp, shape)


def _check_gamma(gamma):
    g = float(gamma)
    if not math.isfinite(g) or g <= 0:
        raise ValueError(f"gamma must be > 0 (m/(A·s)); got {gamma!r}")
    if g > 1e8:
        raise ValueError(f"gamma = {g:g} looks like rad/(s·T); pass μ0·γ in m/(A·s) "
                         f"(≈ 2.2128e5 for g = 2) because fields are in A/m")
    return g


def longitudinal_relaxation_time(T, material, gamma):
    """Longitudinal relaxation time τ∥ (s) of a small deviation δ = |m| - m_e in zero
    applied field, from the linearised LLB equation (docs/llb.md):

        d|m|/dt = γ α∥ f(|m|², T) |m|   ⇒   dδ/dt = -δ/τ∥,   τ∥ = χ∥ / (γ α∥)

    on both sides of Tc (below: f ≈ -δ/(χ∥ m_e); above: f ≈ -1/χ∥). γ in m/(A·s),
    χ∥ in m/A. τ∥(Tc) = inf (critical slowing down). At T = 0 the T → 0 limit is
    returned: μ_at μ0/(6 λ k_B Tc γ) (classical) and 0 (quantum spins).
    """
    T, shape = _prepare(T)
    g = _check_gamma(gamma)
    p = _Params(material)
    chi = np.asarray(chi_parallel(T, material), dtype=float)
    a_par = np.asarray(llb_damping(T, material)[0], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = chi / (g * a_par)
    if np.any(T == 0):
        if p.table is not None:
            lim = np.nan
        else:
            lim = p.mu * MU0 / (6 * p.lam() * KB * p.Tc * g) if p.spin is None else 0.0
        tau = np.where(T == 0, lim, tau)
    return _out(tau, shape)


def equilibrium_length_in_field(T, material, H):
    """Length m0 (dimensionless) of the equilibrium macrospin of the LLB field model in
    an applied field of magnitude H ≥ 0 (A/m) along m: the root of H + f(m0², T) m0 = 0
    (m0 = m_e + χ∥H + O(H²) below Tc; ≈ χ∥ H above Tc)."""
    T = check_temperature(T)
    H = np.asarray(H, dtype=float)
    if np.any(H < 0) or not np.all(np.isfinite(H)):
        raise ValueError("field magnitude H must be finite and >= 0 (A/m)")
    p = _Params(material)
    Tb, Hb = np.broadcast_arrays(T, H)
    Tf, Hf = Tb.ravel().astype(float), Hb.ravel().astype(float)  # copies
    m_e, chi, b = _field_coefficients(Tf, p)
    out = np.array(m_e, dtype=float)
    for i in range(Tf.size):
        if Hf[i] == 0 or Tf[i] == 0:       # T = 0: rigid length m_e = 1
            continue

        def g(m, i=i):
            return Hf[i] + longitudinal_field(m * m, Tf[i], material) * m
        lo = m_e[i]
        hi = max(lo, 1e-300)
        step = max(lo, 1e-3)
        while g(hi) > 0:
            hi = hi + step
            step *= 2
        out[i] = brentq(g, lo, hi, xtol=1e-15 * hi, rtol=1e-15, maxiter=500) if g(lo) > 0 \
            else lo
    out = out.reshape(Tb.shape)
    return float(out) if out.ndim == 0 else out


def transverse_precession(T, material, H, gamma, length=None):
    """Transverse dynamics of a macrospin in an applied field of magnitude H (A/m),
    as predicted by the linearised LLB equation (docs/llb.md). Returns
    (frequency in Hz, amplitude damping time in s):

        f = γ H / (2π),     τ⊥ = m0 / (γ α⊥ H)

    i.e. Landau–Lifshitz precession with effective damping α⊥/m0. The longitudinal
    field is parallel to m and does not act on the transverse motion. m0 is the
    macrospin length: by default the equilibrium length in H
    (equilibrium_length_in_field, = m_e + χ∥H + … below Tc, ≈ χ∥H above, which makes
    τ⊥ → χ∥/(γα∥) = τ∥ above Tc, the isotropic Bloch limit); pass ``length`` to
    use another one (e.g. length=m_e). γ in m/(A·s). H = 0 gives (0, inf).
    """
    Tarr = check_temperature(T)
    g = _check_gamma(gamma)
    Harr = np.abs(np.asarray(H, dtype=float))
    if length is None:
        m0 = np.asarray(equilibrium_length_in_field(Tarr, material, Harr), dtype=float)
    else:
        m0 = np.asarray(length, dtype=float)
    a_perp = np.asarray(llb_damping(Tarr, material)[1], dtype=float)
    freq = g * Harr / (2 * np.pi)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.where(Harr > 0, m0 / (g * a_perp * np.where(Harr > 0, Harr, 1.0)), np.inf)
    freq, tau = np.broadcast_arrays(freq, tau)
    if freq.ndim == 0:
        return float(freq), float(tau)
    return np.array(freq), np.array(tau)


# ---------------------------------------------------------------------------------
# tabulated equilibrium curves
# ---------------------------------------------------------------------------------
class TabulatedEquilibrium:
    """Tabulated equilibrium curves, e.g. from atomistic Monte Carlo, used instead of
    the mean-field model when assigned to ``material.equilibrium``.

    Parameters
    ----------
    T : increasing temperatures (K), ≥ 0.
    m_e : equilibrium reduced magnetisation at T (dimensionless, 0..1).
    chi_par : longitudinal susceptibility ∂m/∂H at T (m/A; note a Monte-Carlo
        χ̃ per tesla converts as χ [m/A] = μ0 χ̃ [1/T]).
    Tc : Curie temperature (K). It overrides material.Tc.
    chi_perp : optional transverse susceptibility (m/A); if given it defines the
        anisotropy via K(T) = μ0 Ms m_e²/(2χ⊥) in the "chi-perp" model.

    Interpolation: m_e² is interpolated (monotone PCHIP) through the points below
    Tc plus (Tc, 0) — m_e² is nearly linear near Tc — and m_e = 0 at and above Tc;
    χ's are interpolated as log χ (PCHIP), which follows their divergence at Tc.
    Outside the tabulated range the end values are used (constant extrapolation).
    """

    def __init__(self, T, m_e, chi_par, Tc, chi_perp=None):
        T = np.asarray(T, dtype=float).ravel()
        m_e = np.asarray(m_e, dtype=float).ravel()
        chi_par = np.asarray(chi_par, dtype=float).ravel()
        if not (np.isfinite(Tc) and Tc > 0):
            raise ValueError(f"TabulatedEquilibrium: Tc must be > 0 (K); got {Tc!r}")
        if T.size < 2 or m_e.shape != T.shape or chi_par.shape != T.shape:
            raise ValueError("TabulatedEquilibrium: T, m_e and chi_par must have the same "
                             "length (at least 2)")
        if not np.all(np.isfinite(T)) or np.any(T < 0) or np.any(np.diff(T) <= 0):
            raise ValueError("TabulatedEquilibrium: T must be finite, >= 0 K and strictly "
                             "increasing")
        if not np.all(np.isfinite(m_e)) or np.any(m_e < 0) or np.any(m_e > 1):
            raise ValueError("TabulatedEquilibrium: m_e must lie in [0, 1]")
        if not np.all(np.isfinite(chi_par)) or np.any(chi_par <= 0):
            raise ValueError("TabulatedEquilibrium: chi_par must be finite and > 0 (m/A)")
        self.Tc = float(Tc)
        self.T_data, self.m_e_data, self.chi_par_data = T, m_e, chi_par
        below = T < self.Tc
        if np.count_nonzero(below) < 1:
            raise ValueError("TabulatedEquilibrium: need at least one point below Tc")
        Tm = np.append(T[below], self.Tc)
        m2 = np.append(m_e[below] ** 2, 0.0)
        self._m2 = PchipInterpolator(Tm, m2, extrapolate=False)
        self._Tm_min = Tm[0]
        self._logchi = PchipInterpolator(T, np.log(chi_par), extrapolate=False)
        self.chi_perp_data = None
        self._logchi_perp = None
        if chi_perp is not None:
            cp = np.asarray(chi_perp, dtype=float).ravel()
            if cp.shape != T.shape or not np.all(np.isfinite(cp)) or np.any(cp <= 0):
                raise ValueError("TabulatedEquilibrium: chi_perp must be finite, > 0 (m/A) "
                                 "and as long as T")
            self.chi_perp_data = cp
            self._logchi_perp = PchipInterpolator(T, np.log(cp), extrapolate=False)

    @property
    def has_chi_perp(self):
        return self._logchi_perp is not None

    @classmethod
    def from_mean_field(cls, material, T):
        """Table of the mean-field m_e and χ∥ of ``material`` at temperatures T (K, not
        Tc itself, where χ∥ = inf). χ⊥ is left out, so K0 keeps defining the anisotropy."""
        T = np.asarray(T, dtype=float)
        mat = _MFView(material)
        chi = np.maximum(chi_parallel(T, mat), np.finfo(float).tiny)  # e^(-Tc/T) underflow
        return cls(T, equilibrium_m(T, mat), chi, float(material.Tc))

    def equilibrium_m(self, T):
        """Interpolated m_e(T) (dimensionless); 0 at and above Tc."""
        T = check_temperature(T)
        Tq = np.clip(T, self._Tm_min, self.Tc)
        m2 = np.asarray(self._m2(Tq), dtype=float)
        m = np.sqrt(np.clip(np.nan_to_num(m2), 0.0, 1.0))
        return np.where(T >= self.Tc, 0.0, m)

    def chi_parallel(self, T):
        """Interpolated χ∥(T) (m/A)."""
        T = check_temperature(T)
        Tq = np.clip(T, self.T_data[0], self.T_data[-1])
        return np.exp(np.asarray(self._logchi(Tq), dtype=float))

    def chi_perpendicular(self, T):
        """Interpolated tabulated χ⊥(T) (m/A); ValueError if none was tabulated."""
        if self._logchi_perp is None:
            raise ValueError("this TabulatedEquilibrium has no chi_perp")
        T = check_temperature(T)
        Tq = np.clip(T, self.T_data[0], self.T_data[-1])
        return np.exp(np.asarray(self._logchi_perp(Tq), dtype=float))


class _MFView:
    """A material seen without its tabulated equilibrium (for from_mean_field)."""

    def __init__(self, material):
        self._m = material

    def __getattr__(self, name):
        if name == "equilibrium":
            return None
        return getattr(self._m, name)
