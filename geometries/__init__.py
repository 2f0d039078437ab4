"""Geometry builders (Gmsh OCC): dimensions and element size in metres → a distributed femag Mesh.

Every builder tags its magnetic volume(s) with physical groups and returns a
:class:`femag.mesh.Mesh` on every rank of `comm`. Shapes are drawn in nm internally
(OpenCASCADE is unreliable at 1e-9 sizes) and scaled back to metres.
See docs/geometries.md for the table of builders.
"""
from .builders import (  # noqa: F401
    SHAPES, bodies, box, curved_strip, cylinder, disk, ellipsoid, film, layers, nanotube,
    nanowire, ring, sphere, spherical_shell, two_spheres,
)
