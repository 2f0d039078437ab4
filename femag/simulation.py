"""The simulation: mesh + materials + energy terms + magnetisation m (a P1 vector field).

Data flow: :mod:`femag.mesh` → :mod:`femag.parameters` (DG0 material fields) → terms
(:mod:`femag.exchange`, ...) → effective field → minimiser / integrators → :mod:`femag.output`.
"""
from __future__ import annotations

import numpy as np
import ufl
from mpi4py import MPI

from . import compat
from .material import MaterialError, region_materials
from .mesh import Mesh
from .parameters import build_parameters
from .term import Term, TermSum, lumped_field_weight

EQUATIONS = ("llg", "llb")


class Simulation:
    """A micromagnetic model on a distributed mesh.

    Parameters
    ----------
    mesh : femag.mesh.Mesh
        From :mod:`femag.geometries`, :func:`femag.mesh.load` or :func:`femag.mesh.generate`.
    materials : Material or dict
        One material for all regions, or a dict keyed by region name or tag.
    equation : str
        "llg" (unit |m|, default) or "llb" (|m| = M/Ms(0) free, needs Tc and llb_lambda).
    name : str
        Run name used in output files.
    """

    def __init__(self, mesh, materials, equation="llg", name="femag"):
        if not isinstance(mesh, Mesh):
            raise TypeError(f"Simulation needs a femag Mesh (femag.geometries.*, femag.mesh.load), "
                            f"got {type(mesh).__name__}")
        if equation not in EQUATIONS:
            raise ValueError(f"equation must be one of {EQUATIONS}, got {equation!r}")
        self.mesh = mesh
        self.comm = mesh.comm
        self.name = name
        self.equation = equation
        self.materials = region_materials(mesh, materials)
        if equation == "llb":
            from .mean_field import validate_llb_material
            for mat in self.materials.values():
                try:
                    validate_llb_material(mat)
                except ValueError as err:
                    raise MaterialError(str(err)) from None
        self.params = build_parameters(mesh, self.materials)
        self.V = compat.vector_p1_space(mesh.mesh)
        self.m = compat.dolfinx.fem.Function(self.V, name="m")
        self.H_eff = compat.dolfinx.fem.Function(self.V, name="H_eff")
        self.t = 0.0
        self.terms = []
        self.field_weight = lumped_field_weight(self)
        self.volume = self.comm.allreduce(compat.dolfinx.fem.assemble_scalar(
            compat.dolfinx.fem.form(1.0 * ufl.dx(domain=mesh.mesh))), op=MPI.SUM)
        self._average_forms = [compat.dolfinx.fem.form(self.m[i] * ufl.dx) for i in range(3)]
        self.temperature_model = None
        self.m = (1.0, 0.0, 0.0)

    # -- sizes ----------------------------------------------------------------------
    @property
    def n_owned(self):
        """Number of P1 nodes owned by this rank."""
        return self.V.dofmap.index_map.size_local

    def nodal(self, function, owned=True):
        """(n, 3) numpy view of a P1 vector Function's local values (owned nodes only by default)."""
        arr = function.x.array.reshape(-1, 3)
        return arr[: self.n_owned] if owned else arr

    def node_coordinates(self):
        """(n_local, 3) coordinates in m of this rank's P1 nodes (owned first, then ghosts),
        in the order an array given to ``sim.m = array`` must follow."""
        return compat.interpolation_coordinates(self.V)

    # -- temperature (LLB) -------------------------------------------------------------
    @property
    def temperature(self):
        """The temperature (LLB), a :class:`femag.temperature.Temperature` or None.

        Set it to a number (K), a callable f(t) or f(x, t) (x (3, n) in m, t in s), a
        :class:`femag.TwoTemperatureModel`, a scalar Function or a nodal array; calling
        it, ``sim.temperature(t)``, gives the volume-averaged T in K."""
        return getattr(self, "_temperature", None)

    @temperature.setter
    def temperature(self, value):
        from .temperature import as_temperature
        self._temperature = as_temperature(self, value)

    # -- magnetisation --------------------------------------------------------------
    @property
    def m(self):
        """The magnetisation direction m (a DOLFINx P1 vector Function, dimensionless)."""
        return self._m

    @m.setter
    def m(self, value):
        if not hasattr(self, "_m"):
            self._m = value
            return
        self.set_m(value)

    def set_m(self, value, normalize=None):
        """Set m from a 3-vector, a callable of x (3, n) → (3, n) in m, an (n_local, 3) array
        in the order of :meth:`node_coordinates`, or a Function on the same space.

        For LLG m is normalised; for LLB its length (M/Ms(0), ≤ 1) is kept unless
        `normalize` is True. NaN, infinite or zero-length vectors are an error."""
        normalize = (self.equation == "llg") if normalize is None else normalize
        target = self.nodal(self._m, owned=False)
        if hasattr(value, "x") and hasattr(value, "function_space"):
            values = value.x.array.reshape(-1, 3).copy()
        elif callable(value):
            tmp = compat.dolfinx.fem.Function(self.V)
            try:
                tmp.interpolate(lambda x: np.asarray(value(x), dtype=float).reshape(3, -1))
            except Exception as exc:
                raise ValueError(f"initial m callable failed: {exc}. It takes x of shape "
                                 f"(3, n) in metres and returns (3, n)") from exc
            values = tmp.x.array.reshape(-1, 3).copy()
        else:
            arr = np.asarray(value, dtype=float)
            if arr.shape == (3,):
                values = np.broadcast_to(arr, target.shape).copy()
            elif arr.shape == target.shape:
                values = arr.copy()
            else:
                raise ValueError(f"m must be a 3-vector, a callable or an array of shape "
                                 f"{target.shape} (this rank's nodes), got shape {arr.shape}")
        lengths = np.linalg.norm(values, axis=1)
        bad_nan = int(np.sum(~np.isfinite(lengths)))
        bad_zero = int(np.sum(lengths == 0.0)) if normalize else 0
        bad_long = int(np.sum(lengths > 1.0 + 1e-9)) if not normalize else 0
        bad_nan, bad_zero, bad_long = self.comm.allreduce(
            np.array([bad_nan, bad_zero, bad_long]), op=MPI.SUM)
        if bad_nan:
            raise ValueError(f"initial m has NaN or infinite values at {bad_nan} node(s)")
        if bad_zero:
            raise ValueError(f"initial m has zero length at {bad_zero} node(s); it cannot be normalised")
        if bad_long:
            raise ValueError(f"LLB m = M/Ms(0) must have length ≤ 1; {bad_long} node(s) exceed it")
        if normalize:
            values /= lengths[:, None]
        target[:] = values
        compat.scatter_forward(self._m)

    def normalize(self):
        """Project m back to unit length at every node (LLG)."""
        arr = self._m.x.array.reshape(-1, 3)
        arr /= np.linalg.norm(arr, axis=1)[:, None]

    # -- terms ------------------------------------------------------------------------
    def add(self, *terms):
        """Add energy terms (or sums of terms); returns self."""
        for term in terms:
            if isinstance(term, TermSum):
                self.add(*term)
                continue
            if not isinstance(term, Term):
                raise TypeError(f"sim.add takes energy terms (femag.Exchange(), ...), "
                                f"got {type(term).__name__}")
            if any(t.name == term.name for t in self.terms):
                raise ValueError(f"a term named {term.name!r} is already in the simulation")
            term.setup(self)
            self.terms.append(term)
        return self

    def term(self, name):
        for t in self.terms:
            if t.name == name:
                return t
        raise KeyError(f"no term named {name!r}; terms: {[t.name for t in self.terms]}")

    def effective_field(self):
        """H_eff = Σ terms' fields at sim.m and sim.t, a P1 Function in A/m (collective)."""
        h = compat.petsc_vector(self.H_eff)
        h.set(0.0)
        for term in self.terms:
            h.axpy(1.0, compat.petsc_vector(term.field()))
        compat.ghost_update_forward(h)
        return self.H_eff

    def energies(self):
        """Energy of every term in J and their "total" (collective, same on all ranks)."""
        result = {t.name: t.energy() for t in self.terms}
        result["total"] = float(sum(result.values()))
        return result

    def energy(self):
        """Total energy in J (collective)."""
        return self.energies()["total"]

    def torque(self, field=None):
        """max over nodes of |m × H_eff| in A/m (collective); H_eff evaluated if not given."""
        h = self.nodal(field if field is not None else self.effective_field())
        m = self.nodal(self._m)
        local = float(np.max(np.linalg.norm(np.cross(m, h), axis=1))) if len(m) else 0.0
        return self.comm.allreduce(local, op=MPI.MAX)

    # -- measurements ---------------------------------------------------------------
    def m_average(self, region=None):
        """Volume-weighted ⟨m⟩ over the magnet (or one region), numpy (3,), on every rank."""
        if region is None:
            local = np.array([compat.dolfinx.fem.assemble_scalar(f) for f in self._average_forms])
            return self.comm.allreduce(local, op=MPI.SUM) / self.volume
        tag = self.mesh.region_tag(region)
        dx = ufl.Measure("dx", domain=self.mesh.mesh, subdomain_data=self.mesh.cell_tags)
        forms = [compat.dolfinx.fem.form(self.m[i] * dx(tag)) for i in range(3)]
        vol_form = compat.dolfinx.fem.form(1.0 * dx(tag))
        local = np.array([compat.dolfinx.fem.assemble_scalar(f) for f in forms]
                         + [compat.dolfinx.fem.assemble_scalar(vol_form)])
        total = self.comm.allreduce(local, op=MPI.SUM)
        return total[:3] / total[3]

    def field(self, name):
        """A named P1 Function: "m", "H_eff", or a term's name (its field)."""
        if name == "m":
            return self._m
        if name in ("H_eff", "effective"):
            return self.effective_field()
        for prefix in ("", "H_"):
            for t in self.terms:
                if prefix + t.name == name:
                    return t.field()
        raise KeyError(f"unknown field {name!r}; known: m, H_eff, "
                       + ", ".join(t.name for t in self.terms))

    def probe(self, points, name="m"):
        """Values of field `name` at points (n, 3) in m → (n, 3), identical on every rank.

        Points outside the mesh give NaN."""
        return compat.probe(self.field(name), np.asarray(points, dtype=float).reshape(-1, 3))

    # -- drivers --------------------------------------------------------------------
    def minimize(self, tol=1.0, max_iterations=20000, verbose=False, **kwargs):
        """Energy minimisation to max |m × H_eff| < tol (A/m); see :func:`femag.minimize.minimize`."""
        from .minimize import minimize
        return minimize(self, tol=tol, max_iterations=max_iterations, verbose=verbose, **kwargs)

    def run(self, t_end, save_every=None, output=None, integrator="rk45", callback=None,
            **kwargs):
        """Time-integrate to t_end (s): "rk45", "rk23" or "tangent-plane"; see
        :func:`femag.integrators.run` (torques=, verbose=, rtol/atol/dt/dt_max, ...)."""
        from .integrators import run
        return run(self, t_end, save_every=save_every, output=output, integrator=integrator,
                   callback=callback, **kwargs)

    def relax(self, tol=1.0, alpha=None, **kwargs):
        """Damped LLG until max |m × H_eff| < tol (A/m); see :func:`femag.integrators.relax`."""
        from .integrators import relax
        return relax(self, tol=tol, alpha=alpha, **kwargs)

    def save(self, directory, fields=(), overwrite=True):
        """Write the current state to `directory`: ParaView series (m, M, region, `fields`),
        table.csv row and info.json; see :mod:`femag.output`."""
        from .output import Output
        out = getattr(self, "_output", None)
        if out is None or out.directory != str(directory):
            out = Output(self, directory, fields=fields, overwrite=overwrite)
            self._output = out
        out.write()
        return out

    def __repr__(self):
        return (f"Simulation(equation={self.equation!r}, terms={[t.name for t in self.terms]}, "
                f"regions={self.mesh.regions})")
