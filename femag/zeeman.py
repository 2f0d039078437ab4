"""Zeeman energy of an applied field: w = −μ0 Ms m·H (J/m³), H in A/m.

The applied field is uniform (a 3-vector), spatially varying (a callable of the
coordinates, or a P1 Function), and optionally modulated in time:
H(x, t) = H(x) ∘ f(t) with f(t) a scalar or a 3-vector (component-wise).
Give H in A/m with ``H=``, or a flux density in tesla with ``B=`` (H = B/μ0).
"""
from __future__ import annotations

import numpy as np
import ufl
from mpi4py import MPI

from . import compat
from .material import MU0
from .term import Term


class Zeeman(Term):
    """Applied field.

    Parameters
    ----------
    H : 3-vector, callable or Function, optional
        Field in A/m. A callable takes coordinates x of shape (3, n) in metres and
        returns (3, n) values, like DOLFINx interpolation.
    B : 3-vector or callable, optional
        μ0 H in tesla, instead of H.
    time_function : callable, optional
        f(t) (t in s) returning a scalar or 3-vector multiplying H, e.g. a pulse.
    name : str
        Table/ParaView name (default "zeeman"); give several Zeeman terms distinct names.
    """

    def __init__(self, H=None, *, B=None, time_function=None, name="zeeman"):
        super().__init__()
        if (H is None) == (B is None):
            raise ValueError("Zeeman needs exactly one of H= (A/m) or B= (T)")
        self.scale = 1.0 if B is None else 1.0 / MU0
        self.value = H if B is None else B
        if not callable(self.value) and not hasattr(self.value, "x"):
            v = np.asarray(self.value, dtype=float)
            if v.shape != (3,) or not np.all(np.isfinite(v)):
                raise ValueError(f"Zeeman field must be a finite 3-vector, got {self.value!r}")
            if B is not None and np.max(np.abs(v)) > 100:
                raise ValueError(f"Zeeman B = {self.value!r} T is implausibly large: B is in "
                                 f"tesla (give H= for A/m)")
        if time_function is not None and not callable(time_function):
            raise ValueError("Zeeman time_function must be a callable of t (s)")
        self.time_function = time_function
        self.name = name

    def setup(self, sim):
        super().setup(sim)
        self.H_static = compat.dolfinx.fem.Function(sim.V, name=f"H_{self.name}_static")
        self._fill_static()
        # b_i = ∫ Ms φ_i · e dx, so E = −μ0 b · (H ∘ m) is exact for P1 m and H
        self._energy_form = compat.dolfinx.fem.form(
            -MU0 * sim.params.Ms * ufl.dot(sim.m, self.H) * ufl.dx)
        self._t_applied = None
        self.update(sim.t)

    def _fill_static(self):
        value = self.value
        if hasattr(value, "x"):  # a DOLFINx Function on the same space
            self.H_static.x.array[:] = value.x.array
        elif callable(value):
            self.H_static.interpolate(lambda x: np.asarray(value(x), dtype=float).reshape(3, -1))
        else:
            v = np.asarray(value, dtype=float)
            self.H_static.x.array.reshape(-1, 3)[:] = v
        self.H_static.x.array[:] *= self.scale
        compat.scatter_forward(self.H_static)

    def set_field(self, H=None, *, B=None):
        """Replace the static field: H in A/m or B = μ0H in T (a 3-vector, a callable of x
        or a Function, as in the constructor), e.g. between the stages of a run. The time
        function, if any, stays. Collective when the term is set up."""
        checked = Zeeman(H, B=B, name=self.name)  # the constructor's validation
        self.scale, self.value = checked.scale, checked.value
        if getattr(self, "H_static", None) is not None:
            self._fill_static()
            self._t_applied = None
            self.update(self.sim.t)

    def factor(self, t):
        """The time modulation f(t) as a 3-vector (ones if static)."""
        if self.time_function is None:
            return np.ones(3)
        f = np.asarray(self.time_function(t), dtype=float)
        if f.shape not in ((), (3,)) or not np.all(np.isfinite(f)):
            raise ValueError(f"Zeeman time_function({t}) must return a finite scalar or 3-vector")
        return np.broadcast_to(f, (3,))

    def update(self, t):
        if self._t_applied == t and self.time_function is None:
            return
        f = self.factor(t)
        self.H.x.array.reshape(-1, 3)[:] = self.H_static.x.array.reshape(-1, 3) * f
        self._t_applied = t

    def field(self):
        self._require_setup()
        if self.time_function is not None:
            self.update(self.sim.t)
        return self.H

    def energy(self):
        self._require_setup()
        self.field()
        local = compat.dolfinx.fem.assemble_scalar(self._energy_form)
        return self.sim.comm.allreduce(local, op=MPI.SUM)

    def __repr__(self):
        return f"Zeeman(H={self.value!r}, name={self.name!r})"
