"""Geometry builders (Gmsh OCC): dimensions and element size in metres → a distributed femag Mesh.

Every builder tags its magnetic volume(s) with physical groups and returns a
:class:`femag.mesh.Mesh` on every rank of `comm`. Shapes are drawn in nm internally
(OpenCASCADE is unreliable at 1e-9 sizes) and scaled back to metres.
"""
from .builders import box, film  # noqa: F401
