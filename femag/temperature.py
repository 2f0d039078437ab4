"""Temperature of an LLB simulation: constant, spatial, time-dependent or laser-driven.

``sim.temperature = value`` wraps `value` in a :class:`Temperature` bound to the
simulation. Accepted values (all in K):

* a number ≥ 0: uniform and constant;
* a callable of time ``f(t)`` (t in s), e.g. a :class:`femag.TwoTemperatureModel`
  (its electron temperature T_e(t) drives the spins) — uniform, time-dependent;
* a callable of position and time ``f(x, t)``: x is (3, n) node coordinates in m,
  it returns n values (or one) — evaluated at the P1 nodes every time it is needed;
* a DOLFINx Function (P1 or DG0 scalar on the mesh) or a numpy array of nodal values in
  the order of ``sim.node_coordinates()``;
* a :class:`HeatDiffusion` on the same mesh (C ∂T/∂t = ∇·(κ∇T) + S(x, t), advanced lazily
  alongside the magnetisation).

A callable with one required positional parameter is a function of t; with two, of
(x, t). :meth:`Temperature.at` returns what the LLB equation needs at time t: a float
when the temperature is uniform (the mean-field curves are then evaluated once) or an
(n_owned,) array at the owned nodes. Calling the object, ``sim.temperature(t)``, gives
the volume-averaged temperature in K (the ``T [K]`` table column).
"""
from __future__ import annotations

import inspect
import numbers

import numpy as np
import ufl
from mpi4py import MPI

from . import compat


class TemperatureError(ValueError):
    """A temperature that cannot be right (negative, NaN, wrong shape, wrong type)."""


def _check(values, what):
    arr = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise TemperatureError(f"temperature {what} must be finite (K); got NaN or inf")
    if arr.size and np.min(arr) < 0:
        raise TemperatureError(f"temperature {what} must be ≥ 0 K; got {float(np.min(arr))!r}")
    return arr


def _n_positional(func):
    """Number of required positional parameters of a callable (None if unknown)."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in sig.parameters.values()
               if p.kind in kinds and p.default is inspect.Parameter.empty)


class Temperature:
    """The temperature field of a simulation (K); see the module docstring.

    Attributes
    ----------
    value : the object given by the user.
    kind : "constant", "time", "space-time", "field" or "diffusion".
    uniform : True when T does not depend on position.
    """

    def __init__(self, sim, value):
        self.sim = sim
        self.value = value
        n = sim.n_owned
        if isinstance(value, Temperature):
            value = value.value
            self.value = value
        if isinstance(value, HeatDiffusion):
            if value.space.mesh is not sim.mesh.mesh:
                raise TemperatureError("HeatDiffusion must live on the simulation's mesh")
            self.kind, self.uniform = "diffusion", False
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            self.kind, self.uniform = "constant", True
            self._constant = float(_check(value, "value"))
        elif hasattr(value, "x") and hasattr(value, "function_space"):
            self.kind, self.uniform = "field", False
            self._interp = compat.dolfinx.fem.Function(compat.scalar_space(sim.mesh.mesh))
            self._check_field_shape(value)
        elif isinstance(value, np.ndarray) or isinstance(value, (list, tuple)):
            arr = np.asarray(value, dtype=float)
            n_local = len(sim.node_coordinates())
            if arr.shape not in ((n_local,), (n,)):
                raise TemperatureError(
                    f"a temperature array must hold one value per node of this rank "
                    f"({n_local}, order of sim.node_coordinates()), got shape {arr.shape}")
            self.kind, self.uniform = "field", False
            self._nodal = _check(arr[:n].copy(), "array")
        elif callable(value):
            npos = _n_positional(value)
            if getattr(value, "lattice", None) is not None or npos == 1:
                self.kind, self.uniform = "time", True
            elif npos == 2:
                self.kind, self.uniform = "space-time", False
                self._x = np.ascontiguousarray(sim.node_coordinates()[:n].T)
            else:
                raise TemperatureError(
                    "a temperature callable must take t (s) or (x, t) with x of shape (3, n) "
                    "in m, and return K")
        else:
            raise TemperatureError(
                f"sim.temperature must be a number (K), a callable f(t) or f(x, t), a "
                f"TwoTemperatureModel, a DOLFINx Function or a nodal array; got "
                f"{type(value).__name__}")
        self._lumped = None
        self._last = None
        self.at(sim.t)  # fail now, not inside the time stepper

    def _check_field_shape(self, f):
        shape = f.function_space.ufl_element().value_shape()
        if tuple(shape) != ():
            raise TemperatureError(f"a temperature Function must be scalar, got value shape "
                                   f"{tuple(shape)}")

    # -- evaluation --------------------------------------------------------------------
    def at(self, t):
        """T at time t (s): a float (uniform) or an (n_owned,) array at the owned nodes (K).
        The last result is cached (except for a Function, which may change in place): the
        LLB field asks several times per evaluation."""
        if self.kind == "constant":
            return self._constant
        if self.kind == "field":  # a Function may be changed in place by the user
            return self._evaluate(t)
        if self._last is not None and self._last[0] == t:
            return self._last[1]
        T = self._evaluate(t)
        self._last = (t, T)
        return T

    def _evaluate(self, t):
        if self.kind == "time":
            value = np.asarray(self.value(t), dtype=float)
            if value.size != 1:
                raise TemperatureError(f"a temperature function of t must return one value "
                                       f"(K); got shape {value.shape}")
            return float(_check(value.reshape(()), f"at t = {t:g} s"))
        if self.kind == "space-time":
            values = np.asarray(self.value(self._x, t), dtype=float)
            values = np.broadcast_to(values, (self._x.shape[1],))
            return _check(values, f"f(x, t) at t = {t:g} s")
        if self.kind == "diffusion":
            return self.value.at(t)
        if hasattr(self, "_nodal"):
            return self._nodal
        self._interp.interpolate(self.value)
        return _check(self._interp.x.array[: self.sim.n_owned].copy(), "Function")

    def nodal(self, t):
        """(n_owned,) array of T (K) at the owned nodes at time t (s)."""
        T = self.at(t)
        return np.full(self.sim.n_owned, T) if np.ndim(T) == 0 else T

    def __call__(self, t=None):
        """Volume-averaged T (K) at time t (s; default sim.t), the same on every rank."""
        t = self.sim.t if t is None else t
        T = self.at(t)
        if np.ndim(T) == 0:
            return float(T)
        if self._lumped is None:  # ∫ φ_i dx of the owned nodes (m³)
            v = ufl.TestFunction(self.sim.V)
            ones = ufl.as_vector((1.0, 1.0, 1.0))
            vec = compat.assemble_vector(compat.dolfinx.fem.form(ufl.inner(ones, v) * ufl.dx))
            self._lumped = vec.getArray(readonly=True).reshape(-1, 3)[: self.sim.n_owned, 0].copy()
        local = float(np.dot(self._lumped, T))
        return self.sim.comm.allreduce(local, op=MPI.SUM) / self.sim.volume

    def __float__(self):
        return self()

    def __repr__(self):
        return f"Temperature({self.kind}, {self.value!r})"


def as_temperature(sim, value):
    """None or a :class:`Temperature` for `value` (the setter behind sim.temperature)."""
    if value is None:
        return None
    return Temperature(sim, value)


__all__ = ["Temperature", "TemperatureError", "as_temperature"]



class HeatDiffusion:
    """Heat diffusion on the magnet's mesh, a spatial temperature for the LLB equation:

        C ∂T/∂t = ∇·(κ ∇T) + S(x, t) − C (T − T0)/τ_sub,     ∂T/∂n = 0 on the surface,

    T in K, C volumetric heat capacity (J/(m³K)), κ thermal conductivity (W/(m K)),
    S a source (W/m³, a callable of (x, t) with x of shape (3, n) in m, e.g. a laser
    pulse absorbed with depth profile), τ_sub an optional loss time to a bath at T0 (s).
    P1 elements, implicit Euler with a fixed step `dt` (s) and a consistent mass matrix
    (conserves ∫C T dx exactly without losses); one CG + AMG solve per step.

    The solution is advanced lazily: ``at(t)`` steps forward until t is covered and
    interpolates linearly in time between stored steps (the last `keep` are kept, enough
    for the Runge–Kutta stages and rejected steps of the magnetisation integrator, which
    never go back more than one of their steps). Give it to ``sim.temperature``.
    """

    def __init__(self, mesh, C, kappa, T0=300.0, source=None, dt=1e-14, tau_substrate=None,
                 t0=0.0, keep=256, initial=None):
        mesh = getattr(mesh, "mesh", mesh)  # a femag Mesh or a DOLFINx mesh
        for name, value, unit in (("C", C, "J/(m³K)"), ("kappa", kappa, "W/(m K)"),
                                  ("dt", dt, "s")):
            if not (np.isfinite(value) and value > 0):
                raise TemperatureError(f"HeatDiffusion {name} must be > 0 ({unit}); got {value!r}")
        _check(T0, "T0")
        if tau_substrate is not None and not tau_substrate > 0:
            raise TemperatureError(f"HeatDiffusion tau_substrate must be > 0 s; got {tau_substrate!r}")
        if source is not None and not callable(source):
            raise TemperatureError("HeatDiffusion source must be a callable S(x, t) in W/m³")
        from petsc4py import PETSc
        fem = compat.dolfinx.fem
        self.comm = mesh.comm
        self.C, self.kappa, self.T0, self.dt = float(C), float(kappa), float(T0), float(dt)
        self.source, self.tau = source, tau_substrate
        self.space = compat.scalar_space(mesh)
        self.T = fem.Function(self.space, name="T")
        if initial is None:
            self.T.x.array[:] = self.T0
        elif callable(initial):  # T(x) in K for x of shape (3, n) in m
            self.T.interpolate(lambda x: np.broadcast_to(
                np.asarray(initial(x), dtype=float), (x.shape[1],)).copy())
        else:
            self.T.x.array[:] = float(_check(initial, "initial"))
        _check(self.T.x.array, "initial")
        self._S = fem.Function(self.space)
        u, v = ufl.TrialFunction(self.space), ufl.TestFunction(self.space)
        loss = 0.0 if tau_substrate is None else self.C / tau_substrate
        a = (self.C / dt + loss) * u * v * ufl.dx + self.kappa * ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx
        self._A = compat.assemble_matrix(fem.form(a))
        self._L = fem.form((self.C / dt * self.T + loss * self.T0 + self._S) * v * ufl.dx)
        self._ksp = PETSc.KSP().create(self.comm)
        self._ksp.setOperators(self._A)
        self._ksp.setType("cg")
        self._ksp.getPC().setType("hypre" if PETSc.Sys.hasExternalPackage("hypre") else "jacobi")
        self._ksp.setTolerances(rtol=1e-12, atol=0.0)
        self._n = self.space.dofmap.index_map.size_local
        self.t = float(t0)
        self._history = [(self.t, self.T.x.array[: self._n].copy())]
        self.keep = int(keep)
        self.steps = 0

    def step(self):
        """One implicit Euler step of dt (collective)."""
        t_new = self.t + self.dt
        if self.source is not None:
            self._S.interpolate(lambda x: np.broadcast_to(
                np.asarray(self.source(x, t_new), dtype=float), (x.shape[1],)).copy())
        b = compat.assemble_vector(self._L)
        x = self._A.createVecRight()
        self._ksp.solve(b, x)
        if self._ksp.getConvergedReason() < 0:
            raise RuntimeError(f"heat diffusion solve failed (KSP reason "
                               f"{self._ksp.getConvergedReason()}) at t = {t_new:g} s")
        self.T.x.array[: self._n] = x.getArray(readonly=True)
        compat.scatter_forward(self.T)
        self.t = t_new
        self.steps += 1
        self._history.append((self.t, self.T.x.array[: self._n].copy()))
        del self._history[: -self.keep]

    def at(self, t):
        """Nodal T (n_owned,) in K at time t (s) (collective when it has to step forward)."""
        while self.t < t * (1 - 1e-12) - 1e-30:
            self.step()
        times = [h[0] for h in self._history]
        if t < times[0] - 1e-12 * abs(times[0]) - 1e-30:
            raise ValueError(f"HeatDiffusion: t = {t:g} s is before the kept history "
                             f"(from {times[0]:g} s); raise keep=")
        j = min(max(int(np.searchsorted(times, t)), 1), len(times) - 1)
        (ta, Ta), (tb, Tb) = self._history[j - 1], self._history[j]
        w = 0.0 if tb == ta else min(max((t - ta) / (tb - ta), 0.0), 1.0)
        return (1 - w) * Ta + w * Tb

    def mean(self, t):
        """Volume-averaged T (K) at time t (s), the same on every rank."""
        T = self.at(t)
        if not hasattr(self, "_lumped"):
            v = ufl.TestFunction(self.space)
            vec = compat.assemble_vector(compat.dolfinx.fem.form(v * ufl.dx))
            self._lumped = vec.getArray(readonly=True)[: self._n].copy()
            self._volume = self.comm.allreduce(float(np.sum(self._lumped)), op=MPI.SUM)
        return self.comm.allreduce(float(np.dot(self._lumped, T)), op=MPI.SUM) / self._volume


__all__ += ["HeatDiffusion"]
