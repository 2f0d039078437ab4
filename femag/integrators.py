"""Time integration of the magnetisation: adaptive Runge–Kutta (PETSc TS) and the implicit
tangent-plane scheme (PETSc KSP), plus the drivers behind ``sim.run`` and ``sim.relax``.

Steppers take (sim, equation) — an equation object with ``rhs(t, y, ydot)``,
``after_step(y)`` and ``name`` (:class:`femag.llg.LLG`, :class:`femag.llb.LLB`) — and
expose ``advance(t_target, stop=None)``, ``steps``, ``rejected``, ``dt`` (s).

* ``"rk45"``: Dormand–Prince 5(4) (PETSc TSRK "5dp"), ``"rk23"``: Bogacki–Shampine 3(2)
  ("3bs"). The local error estimate is controlled in the max norm over all nodal
  components, |e_i| ≤ atol + rtol |y_i|. After every accepted step (TS post-step) the
  equation's ``after_step`` renormalises m. Both methods are FSAL; their cached last stage
  is not recomputed after the renormalisation (it moves y by about the local error, which
  changes the next step by h × that — below the error tolerance).
* ``"tangent-plane"``: Alouges' tangent-plane scheme, second order by default (midpoint
  variant) or the first-order θ-scheme, see :class:`TangentPlane`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from mpi4py import MPI
from petsc4py import PETSc

from . import compat
from .llg import LLG, cross, nodal_average
from .material import MU0
from .petsc_options import with_default_options

INTEGRATORS = ("rk45", "rk23", "tangent-plane")
_RK_TYPES = {"rk45": "5dp", "rk23": "3bs"}


class RelaxationError(RuntimeError):
    """sim.relax() did not reach its torque tolerance within its time or step limit."""


def make_equation(sim, torques=(), alpha=None, precession=True):
    """The equation object for sim.equation: "llg" → LLG, "llb" → femag.llb.LLB."""
    if sim.equation == "llg":
        return LLG(sim, torques=torques, alpha=alpha, precession=precession)
    if sim.equation == "llb":
        if torques or alpha is not None or not precession:
            raise ValueError("spin torques, alpha= and precession= are LLG options; "
                             "the LLB equation takes its damping from the material")
        from .llb import LLB  # written alongside; imported only when used
        return LLB(sim)
    raise ValueError(f"unknown equation {sim.equation!r}")


def _max_norm(comm, arr):
    local = float(np.max(np.linalg.norm(arr, axis=1))) if len(arr) else 0.0
    return comm.allreduce(local, op=MPI.MAX)


# --- explicit Runge–Kutta through PETSc TS --------------------------------------------------
class RungeKutta:
    """Adaptive embedded Runge–Kutta (PETSc TSRK) for any equation object.

    Parameters
    ----------
    method : "rk45" (Dormand–Prince 5(4)) or "rk23" (Bogacki–Shampine 3(2))
    rtol, atol : float
        Local error tolerances per nodal component (dimensionless, m is unitless).
    dt : float, optional
        First step in s (default: 1% of the time m needs to turn by 1 rad).
    dt_max : float, optional
        Largest step in s (e.g. to resolve a field pulse).
    """

    def __init__(self, sim, equation, method="rk45", rtol=1e-7, atol=1e-7, dt=None, dt_max=None):
        if method not in _RK_TYPES:
            raise ValueError(f"Runge–Kutta method must be one of {tuple(_RK_TYPES)}, got {method!r}")
        for name, value in (("rtol", rtol), ("atol", atol)):
            if not (value > 0 and np.isfinite(value)):
                raise ValueError(f"{name} must be > 0, got {value!r}")
        self.sim, self.equation, self.method = sim, equation, method
        self.y = compat.petsc_vector(sim.m).duplicate()
        compat.petsc_vector(sim.m).copy(self.y)
        self._f = self.y.duplicate()
        ts = PETSc.TS().create(comm=sim.comm)
        prefix = f"femag_{method}_{id(self)}_"
        ts.setOptionsPrefix(prefix)
        opts = PETSc.Options(prefix)
        opts["ts_adapt_wnormtype"] = "infinity"  # a wall or vortex core is local: max norm
        ts.setType(PETSc.TS.Type.RK)
        ts.setRKType(_RK_TYPES[method])
        ts.setRHSFunction(lambda ts_, t, y, f: equation.rhs(t, y, f), self._f)
        ts.setTolerances(rtol=rtol, atol=atol)
        ts.setExactFinalTime(PETSc.TS.ExactFinalTime.MATCHSTEP)
        ts.setMaxSteps(2 ** 31 - 1)
        ts.setMaxStepRejections(200)
        ts.setFromOptions()
        for key in ("ts_adapt_wnormtype",):
            del opts[key]
        if dt_max is not None:
            ts.setStepLimits(0.0, float(dt_max))
        ts.setPostStep(self._post_step)
        self.ts = ts
        self.steps = 0
        self.rejected = 0
        self.dt = dt
        self._stop = None
        self._target = None

    def _initial_dt(self):
        self.equation.rhs(self.sim.t, self.y, self._f)
        vmax = _max_norm(self.sim.comm, self._f.getArray(readonly=True).reshape(-1, 3))
        return 0.01 / vmax if vmax > 0 else 1e-12

    def _post_step(self, ts):
        self.equation.after_step(ts.getSolution())
        self.steps += 1
        if ts.getTime() < self._target * (1 - 1e-12) - 1e-30:
            self.dt = ts.getTimeStep()  # the next proposed step, not a truncated last one
        if self._stop is not None and self._stop():
            ts.setConvergedReason(PETSc.TS.ConvergedReason.CONVERGED_USER)

    def advance(self, t_target, stop=None):
        """Integrate from sim.t to t_target (s), or until stop() is True after a step."""
        sim = self.sim
        if t_target <= sim.t:
            return
        if self.dt is None:
            self.dt = self._initial_dt()
        self._stop, self._target = stop, t_target
        ts = self.ts
        ts.setTime(sim.t)
        ts.setStepNumber(0)
        ts.setMaxTime(t_target)
        ts.setTimeStep(min(self.dt, t_target - sim.t))
        ts.setConvergedReason(PETSc.TS.ConvergedReason.ITERATING)
        ts.solve(self.y)
        self.rejected += ts.getStepRejections()
        reason = ts.getConvergedReason()
        if reason < 0:
            raise RuntimeError(f"{self.method} time stepping failed at t = {ts.getTime():.6g} s "
                               f"(PETSc TS reason {reason}); try a smaller dt_max or tolerances")
        self.equation.load(ts.getTime(), self.y)  # sim.m, sim.t and terms at the new state


# --- implicit tangent-plane scheme ---------------------------------------------------------
#: PETSc options under ``femag_tps_`` unless the user set them: ILU(1) in reverse
#: Cuthill–McKee order; under MPI inside additive Schwarz with one layer of overlap.
#: On thin films with several element layers the exchange couples the layers much more
#: stiffly than the in-plane neighbours: natural-order ILU(0) needed ~85 GMRES iterations
#: per solve on SP#4 with 6 layers, this needs ~10 (2.5 s -> 0.55 s per step); and block
#: Jacobi (PETSc's parallel default) needs ~60 on 2 ranks even with exact blocks, because
#: the precession couples the subdomains across their interface; ASM needs ~6
#: (tests/test_llg.py, docs/llg.md section 6).
_TANGENT_PLANE_PC = {
    "pc_factor_levels": 1, "pc_factor_mat_ordering_type": "rcm",
    "sub_pc_factor_levels": 1, "sub_pc_factor_mat_ordering_type": "rcm",
}
_TANGENT_PLANE_PC_PARALLEL = {"pc_type": "asm", "pc_asm_overlap": 1}


class TangentPlane:
    """Alouges' tangent-plane scheme for the LLG equation (weak form, lumped mass): ``order=2``
    (default, midpoint, two linear solves per step) or ``order=1`` (the θ-scheme, one).

    The θ-scheme (``order=1``):

    For each step k = Δt the velocity v_i ⊥ m_i at every node solves, for all tangent φ,

        Σ_i (μ0 M_i/γ_i) (α_i v_i + m_i × v_i)·φ_i + θ k (K v)·φ
            = Σ_i (μ0 M_i H_i(mⁿ) + (μ0 M_i/γ_i) m_i × T_i)·φ_i,

    M_i = ∫ Ms φ_i dx (A·m²), K = Σ Hessians of the quadratic terms (exchange, anisotropy,
    DMI; J), H the full lumped-mass effective field at mⁿ (A/m; non-quadratic terms such as
    demag and Zeeman are explicit) and T the spin torques (1/s); then
    m_iⁿ⁺¹ = (m_i + k v_i)/|m_i + k v_i|. v_i = B_i w_i with B_i an orthonormal tangent
    basis, so the system is 2N × 2N: μ0M_i/γ_i [[α, −1], [1, α]] blocks + θk BᵀKB, solved
    with PETSc KSP (GMRES to `rtol`, started from the last velocity; ILU(1) in RCM order,
    inside additive Schwarz under MPI; options prefix ``femag_tps_``).
    For θ ≥ ½ it is unconditionally stable in the implicit terms (Alouges, CMAME 2008;
    Alouges, Kritsikis, Toussaint, Physica B 2012). It is first order in time.

    The renormalisation shortens m by k²|v|²/2 per step, which raises the Zeeman,
    anisotropy and demag energies (a spurious anti-damping of relative size
    k γ (m·H)/(2α)); so the scheme is first order and needs k γ|H| ≪ α for accurate
    damping, and the adaptive step keeps k ≤ energy_safety · 2α/(γ m·H) at every node.

    ``order=2`` (the midpoint variant) makes it second order at two field evaluations and
    two linear solves per step: a backward-Euler half step (θ = 1, k/2) predicts
    m* = (mⁿ + ½k v*)/|mⁿ + ½k v*|; then v solves the system above in the tangent plane of
    m*, with θ = ½ and the explicit field taken at m* and t + k/2,

        μ0 M_i H_i(m*) + (K (m* − mⁿ))_i,

    i.e. the quadratic terms at mⁿ + ½k v (implicit midpoint) and the rest at the predicted
    midpoint (explicit midpoint); mⁿ⁺¹ = (mⁿ + k v)/|mⁿ + k v|. v is the chord's midpoint
    velocity, so |mⁿ + k v| = 1 + O(k³): the renormalisation no longer feeds energy in, and
    no energy cap is needed. The explicit midpoint rule is only conditionally stable for
    the explicit terms: a precession at rate ω gains (ωk)⁴/8 of energy per step. So k
    is kept below `stability_angle`/ω_explicit with ω_explicit = max_i γ_i(|H_i − H_quad,i|
    + Ms_i) if a demag term is present (Ms: its stiffness for out-of-plane tilts; A/m),
    otherwise max_i γ_i|H_i − H_quad,i|; at 0.25 rad the gain is 5e-4 per step.

    Steps: fixed `dt` (s), or (default) adaptive: no node turns by more than `max_angle`
    rad per step, the energy cap above (order 1), and at most `dt_max`.
    """

    def __init__(self, sim, equation, theta=None, dt=None, max_angle=0.05, dt_max=None, rtol=1e-8,
                 energy_safety=0.5, order=2, stability_angle=0.25):
        if not isinstance(equation, LLG):
            raise ValueError("the tangent-plane integrator solves the LLG equation only "
                             "(|m| = 1); use rk45/rk23 for LLB")
        if order not in (1, 2):
            raise ValueError(f"order must be 1 (θ-scheme) or 2 (midpoint), got {order!r}")
        if order == 2 and theta is not None:
            raise ValueError("theta belongs to the order-1 θ-scheme; the order-2 midpoint "
                             "scheme fixes its own (θ = 1 predictor, θ = ½ corrector): "
                             "pass order=1 with theta")
        theta = 0.5 if theta is None else theta
        if not 0.5 <= theta <= 1.0:
            raise ValueError(f"theta must be in [0.5, 1] (stability needs θ ≥ ½), got {theta!r}")
        if dt is not None and not dt > 0:
            raise ValueError(f"dt must be > 0 s, got {dt!r}")
        if not 0 < max_angle < 1.5:
            raise ValueError(f"max_angle must be in (0, 1.5) rad, got {max_angle!r}")
        self.order = int(order)
        if not stability_angle > 0:
            raise ValueError(f"stability_angle must be > 0 rad, got {stability_angle!r}")
        self.stability_angle = float(stability_angle)
        self.sim, self.equation, self.theta = sim, equation, float(theta)
        self.fixed_dt, self.max_angle, self.dt_max = dt, float(max_angle), dt_max
        self.energy_safety = float(energy_safety)
        self.steps = 0
        self.rejected = 0
        self.dt = dt
        self.linear_iterations = 0
        n = sim.n_owned
        imap = sim.V.dofmap.index_map
        r0 = imap.local_range[0]
        self._n, self._r0 = n, r0
        n_global = imap.size_global
        # c_i = μ0 M_i / γ_i (J·s per unit m); field_weight = −1/(μ0 M_i)
        weight = sim.field_weight.getArray(readonly=True).reshape(-1, 3)[:n, 0]
        self._mu0_mass = (-1.0 / weight)[:, None]
        self._c = self._mu0_mass / equation.gamma
        # the system's entries are ~1e-33 J·s; scale it to O(1) for ILU's pivot tolerances
        self._scale = 1.0 / sim.comm.allreduce(float(np.max(self._c)) if n else 0.0, op=MPI.MAX)
        alpha = equation.alpha[:, 0]
        c = self._c[:, 0] * self._scale
        rows2 = 2 * (r0 + np.arange(n))
        # block-diagonal D: c [[α, −1], [1, α]] (precession) or c (1+α²)/α I (damping only)
        if equation.precession:
            blocks = np.stack([c * alpha, -c, c, c * alpha], axis=1)
        else:
            d = c * (1 + alpha ** 2) / alpha
            blocks = np.stack([d, 0 * d, 0 * d, d], axis=1)
        D = PETSc.Mat().createAIJ(((2 * n, 2 * n_global), (2 * n, 2 * n_global)), nnz=(2, 0),
                                  comm=sim.comm)
        cols = np.stack([rows2, rows2 + 1, rows2, rows2 + 1], axis=1).reshape(-1).astype(PETSc.IntType)
        D.setValuesCSR(np.arange(0, 4 * n + 1, 2, dtype=PETSc.IntType), cols,
                       blocks.reshape(-1))
        D.assemble()
        self._D = D
        # the implicit operator: the Hessians of the quadratic terms, summed once
        K = None
        for term in sim.terms:
            hess = getattr(term, "_hessian", None)
            if hess is None:
                continue
            if K is None:
                K = hess.copy()
            else:
                K.axpy(1.0, hess, structure=PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)
        self._K = K
        self._K_in, self._K_out = (K.createVecs() if K is not None else (None, None))
        # the demag's stiffness for tilts out of a film (A/m), for the order-2 step limit
        has_demag = any(term.name == "demag" for term in sim.terms)
        self._explicit_stiffness = (nodal_average(sim, sim.params.Ms)[:, None] if has_demag
                                    else np.zeros((n, 1)))
        self._P = PETSc.Mat().createAIJ(((3 * n, 3 * n_global), (2 * n, 2 * n_global)),
                                        nnz=(2, 0), comm=sim.comm)
        self._P_indptr = np.arange(0, 6 * n + 1, 2, dtype=PETSc.IntType)
        self._P_cols = np.repeat(np.stack([rows2, rows2 + 1], axis=1), 3, axis=0).reshape(-1) \
            .astype(PETSc.IntType)
        self._A = None
        self._ksp = PETSc.KSP().create(comm=sim.comm)
        self._ksp.setOptionsPrefix("femag_tps_")
        self._ksp.setType(PETSc.KSP.Type.GMRES)
        self._ksp.setTolerances(rtol=rtol, atol=0.0, max_it=1000)
        # GMRES starts from the last velocity (the predictor's for the corrector, the
        # previous step's for the predictor), rotated into the new tangent basis
        self._ksp.setInitialGuessNonzero(True)
        self._v_guess = None
        self._ksp_ready = False
        self._with_default_options(self._ksp.setFromOptions)
        self._b, self._w = D.createVecs()
        self._m_vec = compat.petsc_vector(sim.m)
        self._v_max = None

    def _with_default_options(self, action):
        """action() with _TANGENT_PLANE_PC (and under MPI _TANGENT_PLANE_PC_PARALLEL) as
        defaults under ``femag_tps_``."""
        defaults = dict(_TANGENT_PLANE_PC)
        if self.sim.comm.size > 1:
            defaults.update(_TANGENT_PLANE_PC_PARALLEL)
        with_default_options("femag_tps_", defaults, action)

    @staticmethod
    def tangent_basis(m):
        """Orthonormal e1, e2 ⊥ m with e1 × e2 = m, each (n, 3)."""
        axis = np.zeros_like(m)
        axis[np.arange(len(m)), np.argmin(np.abs(m), axis=1)] = 1.0
        e1 = cross(axis, m)
        e1 /= np.linalg.norm(e1, axis=1)[:, None]
        return e1, cross(m, e1)

    def _operator(self, k, e1, e2, theta):
        D = self._D
        if self._K is None:
            return D
        vals = np.stack([e1, e2], axis=2).reshape(-1)  # row (i, a): (e1[a], e2[a])
        self._P.setValuesCSR(self._P_indptr, self._P_cols, vals)
        self._P.assemble()
        if self._A is None:
            self._A = self._K.ptap(self._P)
        else:
            self._K.ptap(self._P, result=self._A)
        A = self._A
        A.scale(theta * k * self._scale)
        A.axpy(1.0, D, structure=PETSc.Mat.Structure.SUBSET_NONZERO_PATTERN)
        return A

    def _velocity(self, k, m, h, theta=None):
        """Solve for the tangent velocity v (n, 3) in 1/s at step size k (s), v ⊥ m."""
        eq = self.equation
        rhs = self._scale * self._mu0_mass * h
        extra = eq.spin_torque(m, self.sim.t)
        if extra is not None:
            rhs += self._scale * self._c * cross(m, extra)
        e1, e2 = self.tangent_basis(m)
        b = self._b.getArray().reshape(-1, 2)
        b[:, 0] = np.einsum("ij,ij->i", e1, rhs)
        b[:, 1] = np.einsum("ij,ij->i", e2, rhs)
        A = self._operator(k, e1, e2, self.theta if theta is None else theta)
        if self._v_guess is not None:  # the last velocity, in this step's tangent basis
            w0 = self._w.getArray().reshape(-1, 2)
            w0[:, 0] = np.einsum("ij,ij->i", e1, self._v_guess)
            w0[:, 1] = np.einsum("ij,ij->i", e2, self._v_guess)
        self._ksp.setOperators(A)
        if not self._ksp_ready:  # ASM / block Jacobi read their sub-solvers' options here
            self._with_default_options(self._ksp.setUp)
            self._ksp_ready = True
        self._ksp.solve(self._b, self._w)
        if self._ksp.getConvergedReason() < 0:
            raise RuntimeError(f"tangent-plane linear solve failed (KSP reason "
                               f"{self._ksp.getConvergedReason()}) at t = {self.sim.t:.6g} s")
        self.linear_iterations += self._ksp.getIterationNumber()
        w = self._w.getArray(readonly=True).reshape(-1, 2)
        v = w[:, :1] * e1 + w[:, 1:] * e2
        self._v_guess = v
        return v

    def _energy_cap(self, m, h):
        """Largest k (s) for which normalising m + k v cannot undo the damping.

        Normalising shortens m_i by k²|v_i|²/2, which changes E by
        +Σ μ0 M_i (m_i·H_i) k²|v_i|²/2, while the step lowers it by k Σ (μ0 M_i α_i/γ_i)|v_i|²;
        so k < 2 α_i / (γ_i m_i·H_i) at every node keeps E decreasing (to leading order)."""
        eq = self.equation
        mh = np.einsum("ij,ij->i", m, h)
        alpha = eq.alpha[:, 0]
        if not self.equation.precession:
            alpha = (1 + alpha ** 2) / alpha
        mask = (mh > 0) & (alpha > 0)
        local = float(np.min(2 * alpha[mask] / (eq.gamma[mask, 0] * mh[mask]))) if np.any(mask) else np.inf
        return self.energy_safety * self.sim.comm.allreduce(local, op=MPI.MIN)

    def _quadratic_field(self, m):
        """H (n, 3) in A/m of the implicit (quadratic) terms: −(K m)_i/(μ0 M_i)."""
        self._K_in.getArray()[:] = m.reshape(-1)[:3 * self._n]
        self._K.mult(self._K_in, self._K_out)
        return -self._K_out.getArray(readonly=True).reshape(-1, 3) / self._mu0_mass

    def _stability_cap(self, m, h):
        """Largest k (s) the explicit midpoint rule takes for the explicit terms (order 2)."""
        explicit = h if self._K is None else h - self._quadratic_field(m)
        rate = self.equation.gamma * (np.linalg.norm(explicit, axis=1)[:, None]
                                      + self._explicit_stiffness)
        local = float(np.max(rate)) if len(rate) else 0.0
        top = self.sim.comm.allreduce(local, op=MPI.MAX)
        return self.stability_angle / top if top > 0 else np.inf

    def _step_size(self, m, h, remaining):
        if self.fixed_dt is not None:
            k = self.fixed_dt
        else:
            if self._v_max is None:  # first step: the explicit LLG speed
                self._v_max = _max_norm(self.sim.comm, self.equation.velocity(m, h, self.sim.t))
            k = self.max_angle / self._v_max if self._v_max > 0 else remaining
            if self.order == 1:
                k = min(k, self._energy_cap(m, h))
            else:
                k = min(k, self._stability_cap(m, h))
            if self.dt_max is not None:
                k = min(k, self.dt_max)
        # land on the target without leaving a sliver of a step
        if k >= remaining * (1 - 1e-9):
            return remaining
        return 0.5 * remaining if k > 0.5 * remaining else k

    def _midpoint_velocity(self, k, m, h):
        """order 2: the chord velocity v (n, 3) in 1/s from mⁿ = m with field h (A/m) at t."""
        sim, eq = self.sim, self.equation
        t = sim.t
        predicted = self._velocity(0.5 * k, m, h, theta=1.0)
        mid = m + 0.5 * k * predicted
        mid /= np.linalg.norm(mid, axis=1)[:, None]
        sim.nodal(sim.m)[:] = mid
        compat.scatter_forward(sim.m)
        sim.t = t + 0.5 * k
        for term in sim.terms:
            term.update(sim.t)
        field = sim.nodal(sim.effective_field()).copy()
        eq.evaluations += 1
        if self._K is not None:  # the quadratic terms back at mⁿ; the implicit half adds ½k v
            field -= self._quadratic_field(mid - m)
        v = self._velocity(k, mid, field, theta=0.5)
        sim.t = t
        return v

    def advance(self, t_target, stop=None):
        """Integrate from sim.t to t_target (s), or until stop() is True after a step."""
        sim, eq = self.sim, self.equation
        y = self._m_vec
        while sim.t < t_target * (1 - 1e-13):
            eq.load(sim.t, y)
            h = sim.nodal(sim.effective_field())
            m = sim.nodal(sim.m).copy()
            k = self._step_size(m, h, t_target - sim.t)
            eq.evaluations += 1
            eq.last_torque = float(np.max(np.linalg.norm(cross(m, h), axis=1))) if len(m) else 0.0
            if self.order == 1:
                v = self._velocity(k, m, h)
            else:
                v = self._midpoint_velocity(k, m, h)
            self._v_max = _max_norm(sim.comm, v)
            new = m + k * v
            new /= np.linalg.norm(new, axis=1)[:, None]
            sim.nodal(sim.m)[:] = new
            compat.scatter_forward(sim.m)
            sim.t = t_target if k == t_target - sim.t else sim.t + k
            self.dt = k
            self.steps += 1
            if stop is not None and stop():
                break
        eq.load(sim.t, y)


def make_stepper(sim, equation, integrator="rk45", **options):
    """A stepper for `integrator` in INTEGRATORS with its options (see the classes)."""
    if integrator in _RK_TYPES:
        return RungeKutta(sim, equation, method=integrator, **options)
    if integrator == "tangent-plane":
        return TangentPlane(sim, equation, **options)
    raise ValueError(f"integrator must be one of {INTEGRATORS}, got {integrator!r}")


# --- drivers -------------------------------------------------------------------------------
@dataclass
class RunResult:
    """What a run did: one row per saved step, counts and wall time (s)."""

    rows: list = field(default_factory=list)
    steps: int = 0
    rejected: int = 0
    evaluations: int = 0
    wall_time: float = 0.0
    integrator: str = ""

    def column(self, name):
        """numpy array of one table column, e.g. "t", "mx", "E_total", "torque"."""
        return np.array([row[name] for row in self.rows])

    def __str__(self):
        return (f"run ({self.integrator}): {self.steps} steps ({self.rejected} rejected), "
                f"{self.evaluations} field evaluations, {len(self.rows)} saved, "
                f"{self.wall_time:.1f} s")


def _open_output(sim, output, fields, overwrite):
    if output is None or hasattr(output, "write"):
        return output
    from .output import Output  # femag/output.py
    return Output(sim, str(output), fields=fields, overwrite=overwrite)


def _record(sim, equation, stepper, result, out, callback, verbose):
    # the field at the saved state: energies and torque of exactly this m
    torque = sim.torque()
    energies = sim.energies()
    mx, my, mz = sim.m_average()
    row = {"t": sim.t, "mx": mx, "my": my, "mz": mz, "torque": torque,
           "dt": stepper.dt or 0.0, "steps": stepper.steps,
           "E_total": energies["total"]}
    row.update({f"E_{k}": v for k, v in energies.items() if k != "total"})
    result.rows.append(row)
    if out is not None:
        out.write(extra={"max_torque [A/m]": torque, "dt [s]": row["dt"]})
    if verbose and sim.comm.rank == 0:
        print(f"t = {sim.t:.4e} s  dt = {row['dt']:.3e} s  max|m x H| = {torque:.4g} A/m  "
              f"E = {energies['total']:.6e} J  <m> = ({mx:.4f}, {my:.4f}, {mz:.4f})", flush=True)
    if callback is not None:
        callback(sim)


def run(sim, t_end, save_every=None, output=None, integrator="rk45", callback=None,
        verbose=True, torques=(), fields=(), overwrite=False, checkpoint=None, save_start=True,
        **options):
    """Integrate the equation of motion from sim.t to t_end (s), saving every `save_every` s.

    At t = sim.t, every multiple of save_every and t_end: one row in the returned
    :class:`RunResult` (t s, ⟨m⟩, E_<term> J, torque A/m, dt s), one table row and
    ParaView step in `output` (a directory or an Output), `callback(sim)`, and (if
    verbose) a progress line on rank 0. `options` go to the stepper (rtol, atol, dt,
    dt_max for RK; theta, dt, max_angle, dt_max for tangent-plane). `checkpoint`: a
    :class:`femag.checkpoint.Checkpointer`, asked after every save (it writes when its
    wall-clock interval has passed) and at the end, with the state
    {"dt": step size in s, "t_end": s, "saves": rows so far}; pass the saved "dt" back as
    ``dt=`` to continue a run with the step size it had. `save_start=False` skips the save
    at the start time (a resumed run: the output already has that row).
    """
    t_end = float(t_end)
    if not np.isfinite(t_end) or t_end <= sim.t:
        raise ValueError(f"run(t_end) needs t_end > sim.t = {sim.t:g} s, got {t_end!r} "
                         f"(t_end is the absolute end time in s)")
    if save_every is not None and not save_every > 0:
        raise ValueError(f"save_every must be > 0 s, got {save_every!r}")
    start = time.perf_counter()
    equation = make_equation(sim, torques=torques)
    stepper = make_stepper(sim, equation, integrator, **options)
    out = _open_output(sim, output, fields, overwrite)
    result = RunResult(integrator=integrator)
    t0 = sim.t
    equation.load(t0, compat.petsc_vector(sim.m))
    if save_start:
        _record(sim, equation, stepper, result, out, callback, verbose)
    interval = save_every if save_every is not None else t_end - t0
    n_saves = max(1, int(np.ceil((t_end - t0) / interval - 1e-9)))
    try:
        for i in range(1, n_saves + 1):
            target = min(t0 + i * interval, t_end) if i < n_saves else t_end
            stepper.advance(target)
            _record(sim, equation, stepper, result, out, callback, verbose)
            if checkpoint is not None:
                state = {"dt": stepper.dt, "t_end": t_end, "saves": len(result.rows)}
                (checkpoint.save if i == n_saves else checkpoint.maybe_save)(state)
    except BaseException:
        if out is not None and out is not output:
            out.close(success=False)
        raise
    if out is not None and out is not output:
        out.close(success=True)
    result.steps, result.rejected = stepper.steps, stepper.rejected
    result.evaluations = equation.evaluations
    result.wall_time = time.perf_counter() - start
    if verbose and sim.comm.rank == 0:
        print(result, flush=True)
    return result


@dataclass
class RelaxResult:
    steps: int
    evaluations: int
    torque: float  # A/m
    energy: float  # J
    pseudo_time: float  # s
    wall_time: float  # s

    def __str__(self):
        return (f"relax: max |m x H| = {self.torque:.3g} A/m after {self.steps} steps "
                f"({self.evaluations} field evaluations, {self.pseudo_time:.3g} s pseudo-time), "
                f"E = {self.energy:.6g} J, {self.wall_time:.1f} s")


def relax(sim, tol=1.0, alpha=None, precession=True, integrator="rk23", max_time=1e-7,
          max_steps=200000, verbose=True, torques=(), **options):
    """Damped dynamics until max |m × H_eff| < tol (A/m), checked after every step.

    `alpha` replaces the material's damping (e.g. 1 for a fast relaxation);
    precession=False drops the precession term. sim.t is restored afterwards: the
    relaxation's time is not physical. Raises RelaxationError when `max_time` (s of
    pseudo-time) or `max_steps` is used up first (the state reached is kept).
    """
    if not tol > 0:
        raise ValueError(f"relax tol must be > 0 (A/m), got {tol!r}")
    if not max_time > 0:
        raise ValueError(f"relax max_time must be > 0 s, got {max_time!r}")
    if sim.equation != "llg":
        raise ValueError("relax() relaxes the LLG equation; for LLB use run()")
    start = time.perf_counter()
    equation = make_equation(sim, torques=torques, alpha=alpha, precession=precession)
    if sim.comm.allreduce(int(np.any(equation.alpha <= 0)), op=MPI.SUM):
        raise ValueError("relax needs α > 0 (give alpha=...)")
    stepper = make_stepper(sim, equation, integrator, **options)
    t0 = sim.t
    equation.load(t0, compat.petsc_vector(sim.m))
    state = {"torque": sim.torque()}
    state["converged"] = state["torque"] < tol

    def stop():
        state["torque"] = equation.max_torque()
        state["converged"] = state["torque"] < tol
        if verbose and sim.comm.rank == 0 and stepper.steps % 500 == 0:
            print(f"relax: step {stepper.steps}, max |m x H| = {state['torque']:.4g} A/m",
                  flush=True)
        return state["converged"] or stepper.steps >= max_steps

    try:
        if not state["converged"]:
            stepper.advance(t0 + max_time, stop=stop)
        torque = sim.torque()  # at the final, renormalised m
        pseudo = sim.t - t0
    finally:
        equation.load(t0, compat.petsc_vector(sim.m))
    result = RelaxResult(stepper.steps, equation.evaluations, torque, sim.energy(), pseudo,
                         time.perf_counter() - start)
    if not state["converged"]:
        raise RelaxationError(
            f"relax did not converge: max |m x H| = {torque:.3g} A/m after {stepper.steps} steps "
            f"and {pseudo:.3g} s of pseudo-time (tol {tol:g} A/m). Raise max_time/max_steps "
            f"or tol, or use sim.minimize()")
    if verbose and sim.comm.rank == 0:
        print(result, flush=True)
    return result


__all__ = ["INTEGRATORS", "RungeKutta", "TangentPlane", "RelaxationError", "RunResult",
           "RelaxResult", "make_equation", "make_stepper", "run", "relax", "MU0"]
