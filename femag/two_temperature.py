"""Two-temperature model (TTM) of a laser-heated metal, to drive LLB simulations.

Electrons (temperature T_e, heat capacity C_e = γ_e T_e) absorb a Gaussian laser pulse
and exchange heat with the lattice (T_l, heat capacity C_l) through the coupling G;
optionally the lattice loses heat to the substrate with a time constant τ_sub:

    C_e(T_e) dT_e/dt = -G (T_e - T_l) + S(t)
    C_l      dT_l/dt =  G (T_e - T_l) - C_l (T_l - T0)/τ_sub
    S(t) = P0 exp(-4 ln2 (t - t_p)²/w²)          (W/m³; w = FWHM, t_p = pulse_delay)

(Anisimov, Kapeliovich & Perel'man, Sov. Phys. JETP 39, 375 (1974); used with the LLB
equation by Kazantseva et al., EPL 81, 27004 (2008), Atxitia et al., PRB 81, 174401
(2010)). The absorbed energy density of the pulse is E = P0 w sqrt(π/(4 ln2)) (J/m³);
an absorbed fluence F (J/m²) deposited over an absorption depth δ (m) gives E = F/δ.

The model integrates lazily with scipy's implicit Radau method (stiff-safe; analytic
Jacobian), with max_step ≤ w/10 while the pulse is on, and keeps the dense output, so
the object is a callable temperature: ``model(t)`` → T_e (K) for t in s (scalar or
array), ``model.lattice(t)`` → T_l (K). Queries may come in any order; increasing
times (a time stepper) are answered from a cached segment without a search.

Units: SI throughout (K, s, J/m³, W/m³, W/(m³K), J/(m³K), J/(m³K²), J/m², m).
"""
from __future__ import annotations

import bisect
import math

import numpy as np
from scipy.integrate import solve_ivp
from scipy.special import erf

__all__ = ["TwoTemperatureModel"]

_GAUSS = math.sqrt(math.pi / (4.0 * math.log(2.0)))   # ∫exp(-4ln2 s²/w²) ds = w·_GAUSS
_WINDOW = 6.0   # the pulse is "on" for |t - t_p| < 6 FWHM (S/P0 < 1e-43 outside)


def _positive(name, value, unit, allow_zero=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number ({unit}); got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} ({unit}); "
                         f"got {value!r}")
    return v


class TwoTemperatureModel:
    """Electron and lattice temperatures after a Gaussian laser pulse.

    Parameters
    ----------
    Ce_gamma : electronic heat-capacity coefficient γ_e (J/(m³K²)), C_e = γ_e T_e.
    Cl : lattice heat capacity (J/(m³K)), constant.
    G : electron–lattice coupling (W/(m³K)).
    T0 : ambient / initial temperature (K).
    pulse_fluence : absorbed fluence F (J/m²); needs ``absorption_depth`` (m).
    P0 : absorbed peak power density (W/m³). Use P0=0 for no pulse.
    absorbed_energy_density : absorbed energy density E of the pulse (J/m³).
        Exactly one of pulse_fluence, P0, absorbed_energy_density must be given.
    pulse_fwhm : full width at half maximum w of S(t) (s).
    pulse_delay : time t_p of the pulse maximum (s); default t0 + 3 w.
    tau_substrate : lattice heat-loss time constant (s); None = no losses.
    Ce_constant : if given, a constant electronic heat capacity (J/(m³K)) replaces
        γ_e T_e (then Ce_gamma may be None).
    Te0, Tl0 : initial temperatures at t0 (K); default T0.
    t0 : start time (s).
    rtol, atol : solver tolerances (relative; absolute in K).
    """

    def __init__(self, Ce_gamma, Cl, G, T0=300.0, *, pulse_fluence=None,
                 absorption_depth=None, P0=None, absorbed_energy_density=None,
                 pulse_fwhm=100e-15, pulse_delay=None, tau_substrate=None,
                 Ce_constant=None, Te0=None, Tl0=None, t0=0.0, rtol=1e-8, atol=1e-6):
        if Ce_constant is None:
            self.Ce_gamma = _positive("Ce_gamma", Ce_gamma, "J/(m³K²)")
            self.Ce_constant = None
        else:
            self.Ce_constant = _positive("Ce_constant", Ce_constant, "J/(m³K)")
            self.Ce_gamma = None if Ce_gamma is None else _positive("Ce_gamma", Ce_gamma,
                                                                    "J/(m³K²)")
        self.Cl = _positive("Cl", Cl, "J/(m³K)")
        self.G = _positive("G", G, "W/(m³K)")
        self.T0 = _positive("T0", T0, "K")
        self.pulse_fwhm = _positive("pulse_fwhm", pulse_fwhm, "s")
        self.t0 = float(t0)
        if not math.isfinite(self.t0):
            raise ValueError("t0 must be finite (s)")
        self.pulse_delay = (self.t0 + 3.0 * self.pulse_fwhm if pulse_delay is None
                            else float(pulse_delay))
        if not math.isfinite(self.pulse_delay):
            raise ValueError("pulse_delay must be finite (s)")
        given = [v is not None for v in (pulse_fluence, P0, absorbed_energy_density)]
        if sum(given) != 1:
            raise ValueError("give exactly one of pulse_fluence (J/m², with absorption_depth), "
                             "P0 (W/m³; 0 for no pulse) or absorbed_energy_density (J/m³)")
        w = self.pulse_fwhm
        if pulse_fluence is not None:
            F = _positive("pulse_fluence", pulse_fluence, "J/m²", allow_zero=True)
            if absorption_depth is None:
                raise ValueError("pulse_fluence needs absorption_depth (m)")
            depth = _positive("absorption_depth", absorption_depth, "m")
            self.pulse_energy = F / depth
            self.P0 = self.pulse_energy / (w * _GAUSS)
        elif P0 is not None:
            self.P0 = _positive("P0", P0, "W/m³", allow_zero=True)
            self.pulse_energy = self.P0 * w * _GAUSS
        else:
            self.pulse_energy = _positive("absorbed_energy_density", absorbed_energy_density,
                                          "J/m³", allow_zero=True)
            self.P0 = self.pulse_energy / (w * _GAUSS)
        self.absorption_depth = absorption_depth
        self.tau_substrate = (None if tau_substrate is None
                              else _positive("tau_substrate", tau_substrate, "s"))
        self.Te0 = self.T0 if Te0 is None else _positive("Te0", Te0, "K")
        self.Tl0 = self.T0 if Tl0 is None else _positive("Tl0", Tl0, "K")
        self.rtol = float(rtol)
        self.atol = float(atol)
        self._k = 4.0 * math.log(2.0) / w ** 2
        self._window = (self.pulse_delay - _WINDOW * w, self.pulse_delay + _WINDOW * w)
        # integrated segments: start times, end times, OdeSolution objects
        self._starts: list = []
        self._ends: list = []
        self._sols: list = []
        self._t_end = self.t0
        self._y_end = np.array([self.Te0, self.Tl0, 0.0])
        self._last = 0

    # ---- literature parameter sets ---------------------------------------------------
    @classmethod
    def nickel(cls, **kwargs):
        """TTM with nickel parameters (override any by keyword; give the pulse):

        γ_e = 1065 J/(m³K²): Sommerfeld coefficient of Ni, 7.02 mJ/(mol K²) (Kittel,
            Introduction to Solid State Physics, Table 6.3) over the molar volume
            6.59 cm³/mol; the value used by Lin, Zhigilei & Celli, PRB 77, 075133 (2008).
        C_l = 3.6e6 J/(m³K): room-temperature c_p = 0.444 J/(g K) × 8.908 g/cm³
            (CRC Handbook) minus the electronic part γ_e·300 K (Dulong–Petit: 3.79e6).
        G = 3.6e17 W/(m³K): low-T_e electron–phonon coupling of Ni as quoted by
            Lin, Zhigilei & Celli (2008); published values range up to 8e17
            (Beaurepaire et al., PRL 76, 4250 (1996)).
        Ni: Tc = 627 K, μ_at = 0.62 μ_B (Koopmans et al., Nat. Mater. 9, 259 (2010)) —
            for the LLB material, not used here. A typical absorption depth at 800 nm
            is ~15 nm (pass absorption_depth=15e-9 with pulse_fluence).
        """
        params = dict(Ce_gamma=1065.0, Cl=3.6e6, G=3.6e17, T0=300.0)
        params.update(kwargs)
        Ce_gamma, Cl, G = params.pop("Ce_gamma"), params.pop("Cl"), params.pop("G")
        return cls(Ce_gamma, Cl, G, **params)

    # ---- model -------------------------------------------------------------------------
    def source(self, t):
        """Absorbed laser power density S(t) (W/m³)."""
        t = np.asarray(t, dtype=float)
        out = self.P0 * np.exp(-self._k * (t - self.pulse_delay) ** 2)
        return float(out) if out.ndim == 0 else out

    def electron_heat_capacity(self, Te):
        """C_e(T_e) (J/(m³K))."""
        Te = np.asarray(Te, dtype=float)
        out = (np.full_like(Te, self.Ce_constant) if self.Ce_constant is not None
               else self.Ce_gamma * Te)
        return float(out) if out.ndim == 0 else out

    def _electron_energy(self, Te):
        """∫_{Te0}^{Te} C_e dT (J/m³)."""
        if self.Ce_constant is not None:
            return self.Ce_constant * (Te - self.Te0)
        return 0.5 * self.Ce_gamma * (Te ** 2 - self.Te0 ** 2)

    def _rhs(self, t, y):
        Te, Tl = y[0], y[1]
        S = self.P0 * math.exp(-self._k * (t - self.pulse_delay) ** 2)
        Ce = self.Ce_constant if self.Ce_constant is not None else self.Ce_gamma * Te
        q = self.G * (Te - Tl)
        loss = 0.0 if self.tau_substrate is None else self.Cl * (Tl - self.T0) / self.tau_substrate
        return np.array([(S - q) / Ce, (q - loss) / self.Cl, loss])

    def _jac(self, t, y):
        Te, Tl = y[0], y[1]
        S = self.P0 * math.exp(-self._k * (t - self.pulse_delay) ** 2)
        if self.Ce_constant is not None:
            Ce, dCe = self.Ce_constant, 0.0
        else:
            Ce, dCe = self.Ce_gamma * Te, self.Ce_gamma
        q = self.G * (Te - Tl)
        r = 0.0 if self.tau_substrate is None else 1.0 / self.tau_substrate
        return np.array([
            [-self.G / Ce - (S - q) * dCe / Ce ** 2, self.G / Ce, 0.0],
            [self.G / self.Cl, -self.G / self.Cl - r, 0.0],
            [0.0, self.Cl * r, 0.0],
        ])

    # ---- integration ---------------------------------------------------------------------
    def solve(self, t_end):
        """Integrate (if not done yet) up to t_end (s); returns self."""
        t_end = float(t_end)
        if not math.isfinite(t_end):
            raise ValueError("t_end must be finite (s)")
        lo, hi = self._window
        w = self.pulse_fwhm
        while self._t_end < t_end:
            ta = self._t_end
            if ta < lo:
                tb, max_step = min(t_end, lo), np.inf
            elif ta < hi:
                tb, max_step = hi, 0.1 * w          # always cover the whole pulse at once
            else:
                tb, max_step = t_end, np.inf
            if self.P0 == 0.0:
                max_step = np.inf
            atol = np.array([self.atol, self.atol, self.atol * self.Cl])
            sol = solve_ivp(self._rhs, (ta, tb), self._y_end, method="Radau",
                            jac=self._jac, rtol=self.rtol, atol=atol, max_step=max_step,
                            dense_output=True)
            if not sol.success:
                raise RuntimeError(f"two-temperature integration failed: {sol.message}")
            self._starts.append(ta)
            self._ends.append(tb)
            self._sols.append(sol.sol)
            self._t_end = tb
            self._y_end = sol.y[:, -1].copy()
        return self

    def _ensure(self, t_max):
        if t_max > self._t_end or not self._sols:
            # extend geometrically so that a time stepper triggers O(log) restarts
            span = max(self._t_end - self.t0, 20.0 * self.pulse_fwhm)
            self.solve(max(t_max, self._t_end + span))

    def _segment(self, t):
        i = self._last
        if self._starts[i] <= t <= self._ends[i]:
            return i
        if i + 1 < len(self._starts) and self._starts[i + 1] <= t <= self._ends[i + 1]:
            self._last = i + 1
            return i + 1
        i = max(bisect.bisect_right(self._starts, t) - 1, 0)
        self._last = i
        return i

    def state(self, t):
        """(T_e, T_l, lost energy Q (J/m³)) at time(s) t (s): floats or arrays."""
        ta = np.asarray(t, dtype=float)
        if not np.all(np.isfinite(ta)):
            raise ValueError("time t must be finite (s)")
        if ta.size and np.min(ta) < self.t0 - 1e-12 * max(abs(self.t0), self.pulse_fwhm):
            raise ValueError(f"time t must be >= t0 = {self.t0} s")
        if ta.size == 0:
            return tuple(np.empty(ta.shape) for _ in range(3))
        ta = np.maximum(ta, self.t0)
        self._ensure(float(np.max(ta)))
        if ta.ndim == 0:
            y = self._sols[self._segment(float(ta))](float(ta))
            return float(y[0]), float(y[1]), float(y[2])
        flat = ta.ravel()
        idx = np.clip(np.searchsorted(self._starts, flat, side="right") - 1, 0,
                      len(self._starts) - 1)
        out = np.empty((3, flat.size))
        for i in np.unique(idx):
            sel = idx == i
            out[:, sel] = self._sols[i](flat[sel])
        return tuple(o.reshape(ta.shape) for o in out)

    def __call__(self, t):
        """Electron temperature T_e(t) (K), t in s (scalar or array)."""
        return self.state(t)[0]

    electron = __call__

    def lattice(self, t):
        """Lattice temperature T_l(t) (K), t in s (scalar or array)."""
        return self.state(t)[1]

    # ---- energy bookkeeping ------------------------------------------------------------
    def absorbed_energy(self, t):
        """Laser energy density absorbed between t0 and t (J/m³), analytic."""
        t = np.asarray(t, dtype=float)
        s = math.sqrt(self._k)
        out = (self.P0 * 0.5 * math.sqrt(math.pi) / s
               * (erf(s * (t - self.pulse_delay)) - erf(s * (self.t0 - self.pulse_delay))))
        return float(out) if out.ndim == 0 else out

    def internal_energy(self, t):
        """Energy density stored since t0, ∫C_e dT_e + C_l ΔT_l (J/m³)."""
        Te, Tl, _ = self.state(t)
        out = self._electron_energy(np.asarray(Te)) + self.Cl * (np.asarray(Tl) - self.Tl0)
        return float(out) if np.ndim(out) == 0 else out

    def lost_energy(self, t):
        """Energy density lost to the substrate between t0 and t (J/m³)."""
        return self.state(t)[2]

    def __repr__(self):
        ce = (f"Ce={self.Ce_constant:g} J/(m³K)" if self.Ce_constant is not None
              else f"Ce_gamma={self.Ce_gamma:g} J/(m³K²)")
        return (f"TwoTemperatureModel({ce}, Cl={self.Cl:g} J/(m³K), G={self.G:g} W/(m³K), "
                f"T0={self.T0:g} K, E={self.pulse_energy:g} J/m³, "
                f"fwhm={self.pulse_fwhm:g} s, delay={self.pulse_delay:g} s, "
                f"tau_substrate={self.tau_substrate})")
