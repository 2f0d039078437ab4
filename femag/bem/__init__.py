"""Boundary-element part of the Fredkin–Koehler demagnetisation field.

* :mod:`femag.bem.lindholm` -- analytic (Lindholm) double-layer weights, dense rows
  of K, solid angles of tetrahedra;
* :mod:`femag.bem.operator` -- the boundary operator B = K + diag(Ω/4π − 1), dense or
  as an H-matrix, distributed over MPI ranks;
* :mod:`femag.bem.hmatrix` -- cluster tree, block partition, ACA;
* :mod:`femag.bem.surface` -- boundary surfaces of tetrahedral meshes, test bodies.
"""
from .lindholm import assemble_rows, solid_angle_sum, triangle_weights
from .operator import (DenseBoundaryOperator, HierarchicalBoundaryOperator,
                       boundary_operator)

__all__ = ["assemble_rows", "solid_angle_sum", "triangle_weights", "DenseBoundaryOperator",
           "HierarchicalBoundaryOperator", "boundary_operator"]
