"""Material parameters as cell-wise constant (DG0) functions on the mesh.

Every parameter of :class:`femag.Material` becomes one DG0 function, so regions of
different materials meet at element faces and UFL forms use them like constants.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from . import compat
from .material import SCALAR_PARAMETERS


def _cell_values(mesh, by_tag, getter, width):
    """Array (n_local_cells, width) with the value of `getter(material)` in each cell."""
    dmesh = mesh.mesh
    imap = dmesh.topology.index_map(3)
    n_cells = imap.size_local + imap.num_ghosts
    values = np.zeros((n_cells, width))
    tagged = np.zeros(n_cells, dtype=bool)
    for tag, mat in by_tag.items():
        cells = mesh.cell_tags.indices[mesh.cell_tags.values == tag]
        values[cells] = np.asarray(getter(mat), dtype=float).reshape(width)
        tagged[cells] = True
    return values, tagged


def _dg0(mesh, values, name):
    width = values.shape[1]
    space = compat.scalar_space(mesh.mesh, "DG", 0) if width == 1 else compat.vector_dg0_space(mesh.mesh)
    f = compat.dolfinx.fem.Function(space, name=name)
    dofs = compat.cell_dofs(space)  # DG0 dofs are not numbered like the cells
    f.x.array.reshape(-1, width)[dofs] = values[: len(dofs)]
    compat.scatter_forward(f)
    return f


def build_parameters(mesh, by_tag):
    """Namespace of DG0 functions: Ms, A, alpha, gamma, Ku, Kc1, D_int, D_bulk (scalars, SI),
    axis, axis1, axis2, axis3 (unit vectors) and region (the cell tag, for output)."""
    p = SimpleNamespace()
    for name in SCALAR_PARAMETERS:
        values, _ = _cell_values(mesh, by_tag, lambda mat, n=name: getattr(mat, n), 1)
        setattr(p, name, _dg0(mesh, values, name))
    for name, getter in (("axis", lambda mat: mat.axis),
                         ("axis1", lambda mat: mat.axes[0]),
                         ("axis2", lambda mat: mat.axes[1]),
                         ("axis3", lambda mat: np.cross(mat.axes[0], mat.axes[1]))):
        values, _ = _cell_values(mesh, by_tag, getter, 3)
        setattr(p, name, _dg0(mesh, values, name))
    tags = np.zeros((mesh.mesh.topology.index_map(3).size_local
                     + mesh.mesh.topology.index_map(3).num_ghosts, 1))
    tags[mesh.cell_tags.indices, 0] = mesh.cell_tags.values
    p.region = _dg0(mesh, tags, "region")
    p.by_tag = dict(by_tag)
    return p


def uniform_value(params, name):
    """The value of a scalar parameter if it is the same in every region, else None."""
    values = {getattr(mat, name) for mat in params.by_tag.values()}
    return values.pop() if len(values) == 1 else None
