"""The builders. Arguments in metres; `h` is the target element size in metres.

Each shape is a small validating function (``_sphere(radius, center)``, ...) that
checks its arguments on every rank and returns ``draw(occ) -> [volume tags]``; the
drawing happens in nm on the meshing rank only. :func:`_fragmented` fragments all
drawn volumes together (so touching bodies share conforming faces); :func:`_mesh` tags
them by name and meshes them through :func:`femag.mesh.generate`. Flat and prismatic
shapes (box, film, layers, disk, ring, curved strip, cylinder, nanotube) are instead
extruded from their cross-section (:func:`_extruded`), which avoids slivers in thin
bodies.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
from mpi4py import MPI

from femag.mesh import MeshError, generate

#: Builders draw in nanometres (OpenCASCADE tolerances are ~1e-7 model units).
NM = 1e-9
#: Largest accepted length (m); larger values are taken as a unit mistake (nm given as m).
MAX_LENGTH = 1e-3
#: Smallest accepted length (m).
MIN_LENGTH = 1e-12
#: Refuse to mesh when the estimated tetrahedron count exceeds this (h far too small).
MAX_TETRAHEDRA = 5_000_000


# --- argument checks -------------------------------------------------------------
def _positive(**values):
    """Each value must be a length in metres in [MIN_LENGTH, MAX_LENGTH]."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value) or value <= 0:
            raise MeshError(f"{name} must be a positive length in metres, got {value!r}")
        if value > MAX_LENGTH:
            raise MeshError(f"{name} = {value!r} m is larger than 1 mm: lengths are in metres "
                            f"(100 nm is 100e-9)")
        if value < MIN_LENGTH:
            raise MeshError(f"{name} = {value!r} m is smaller than 1 pm: lengths are in metres")


def _point(center, what="center"):
    """A point (m) -> its coordinates in nm."""
    try:
        c = np.asarray(center, dtype=float).reshape(3)
    except (TypeError, ValueError):
        raise MeshError(f"{what} must be three coordinates in metres, got {center!r}") from None
    if not np.all(np.isfinite(c)) or np.any(np.abs(c) > MAX_LENGTH):
        raise MeshError(f"{what} = {center!r} must be finite coordinates in metres "
                        f"(within 1 mm of the origin)")
    return tuple(float(v) / NM for v in c)


def _axis(axis):
    """'x' | 'y' | 'z' | a 3-vector -> unit vector."""
    named = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}
    if isinstance(axis, str):
        if axis.lower() not in named:
            raise MeshError(f"axis must be 'x', 'y', 'z' or a 3-vector, got {axis!r}")
        return np.array(named[axis.lower()])
    a = np.asarray(axis, dtype=float).reshape(3)
    norm = np.linalg.norm(a)
    if not np.isfinite(norm) or norm == 0:
        raise MeshError(f"axis must be a non-zero 3-vector, got {axis!r}")
    return a / norm


def _inner_outer(outer_radius, inner_radius):
    _positive(outer_radius=outer_radius, inner_radius=inner_radius)
    if inner_radius >= outer_radius:
        raise MeshError(f"inner_radius ({inner_radius!r} m) must be smaller than "
                        f"outer_radius ({outer_radius!r} m)")


# --- shapes: validate in metres, return draw(occ) in nm --------------------------
def _box(lx, ly, lz, center=(0.0, 0.0, 0.0)):
    _positive(lx=lx, ly=ly, lz=lz)
    cx, cy, cz = _point(center)
    a, b, c = lx / NM, ly / NM, lz / NM
    return lambda occ: [occ.addBox(cx - a / 2, cy - b / 2, cz - c / 2, a, b, c)]


def _cylinder(radius, length, center=(0.0, 0.0, 0.0), axis="z"):
    _positive(radius=radius, length=length)
    c = np.array(_point(center))
    d = _axis(axis) * length / NM
    r = radius / NM
    return lambda occ: [occ.addCylinder(*(c - d / 2), *d, r)]


def _nanotube(outer_radius, inner_radius, length, center=(0.0, 0.0, 0.0), axis="z"):
    _inner_outer(outer_radius, inner_radius)
    outer = _cylinder(outer_radius, length, center, axis)
    # the hole is longer than the tube so that the boolean cut has no coplanar end faces
    inner = _cylinder(inner_radius, 1.5 * length, center, axis)

    def draw(occ):
        out, _ = occ.cut([(3, v) for v in outer(occ)], [(3, v) for v in inner(occ)])
        return [t for d, t in out if d == 3]
    return draw


def _curved_strip(radius, width, thickness, angle, center=(0.0, 0.0, 0.0)):
    """Arc of a ring in the xy plane: mid-line radius `radius`, radial width `width`,
    height `thickness` (z), opening `angle` (rad) centred on the +x direction."""
    _positive(radius=radius, width=width, thickness=thickness)
    if not (isinstance(angle, numbers.Real) and 0 < angle < 2 * math.pi):
        raise MeshError(f"angle must be in (0, 2π) rad, got {angle!r} (a full ring is ring())")
    if width >= 2 * radius:
        raise MeshError(f"width ({width!r} m) must be smaller than twice the mid-line "
                        f"radius ({radius!r} m)")
    cx, cy, cz = _point(center)
    ro, ri, t = (radius + width / 2) / NM, (radius - width / 2) / NM, thickness / NM

    def draw(occ):
        outer = occ.addCylinder(cx, cy, cz - t / 2, 0, 0, t, ro, -1, angle)
        hole = occ.addCylinder(cx, cy, cz - t, 0, 0, 2 * t, ri, -1, 2 * math.pi)
        out, _ = occ.cut([(3, outer)], [(3, hole)])
        occ.rotate(out, cx, cy, cz, 0, 0, 1, -angle / 2)
        return [tag for d, tag in out if d == 3]
    return draw


def _ellipsoid(a, b, c, center=(0.0, 0.0, 0.0)):
    _positive(a=a, b=b, c=c)
    cx, cy, cz = _point(center)

    def draw(occ):
        v = occ.addSphere(cx, cy, cz, a / NM)
        if b != a or c != a:
            occ.dilate([(3, v)], cx, cy, cz, 1.0, b / a, c / a)
        return [v]
    return draw


def _sphere(radius, center=(0.0, 0.0, 0.0)):
    _positive(radius=radius)
    cx, cy, cz = _point(center)
    return lambda occ: [occ.addSphere(cx, cy, cz, radius / NM)]


def _spherical_shell(outer_radius, inner_radius, center=(0.0, 0.0, 0.0), polar_angle=None):
    """Shell between two concentric spheres; with `polar_angle` θ (rad) only the cap
    0 ≤ ϑ ≤ θ around +z (cut by the cone of half-angle θ whose apex is the centre)."""
    _inner_outer(outer_radius, inner_radius)
    if polar_angle is not None and not (isinstance(polar_angle, numbers.Real)
                                        and 0 < polar_angle < math.pi):
        raise MeshError(f"polar_angle must be in (0, π) rad, got {polar_angle!r}")
    cx, cy, cz = _point(center)
    ro, ri = outer_radius / NM, inner_radius / NM

    def draw(occ):
        out, _ = occ.cut([(3, occ.addSphere(cx, cy, cz, ro))],
                         [(3, occ.addSphere(cx, cy, cz, ri))])
        if polar_angle is None:
            return [t for d, t in out if d == 3]
        height = 2 * ro
        if abs(polar_angle - math.pi / 2) < 1e-9:  # hemisphere: keep z >= cz
            keep = occ.addBox(cx - height, cy - height, cz, 2 * height, 2 * height, height)
            out, _ = occ.intersect(out, [(3, keep)])
        elif polar_angle < math.pi / 2:  # keep the inside of a cone along +z
            cone = occ.addCone(cx, cy, cz, 0, 0, height, 0, height * math.tan(polar_angle))
            out, _ = occ.intersect(out, [(3, cone)])
        else:  # remove the cone of half-angle π−θ along −z
            cone = occ.addCone(cx, cy, cz, 0, 0, -height, 0,
                               height * math.tan(math.pi - polar_angle))
            out, _ = occ.cut(out, [(3, cone)])
        return [t for d, t in out if d == 3]
    return draw


#: Shapes usable in :func:`bodies`, with the keyword arguments of their builder (m, rad).
SHAPES = {
    "box": _box, "cylinder": _cylinder, "nanowire": _cylinder, "nanotube": _nanotube,
    "curved_strip": _curved_strip, "ellipsoid": _ellipsoid, "sphere": _sphere,
    "spherical_shell": _spherical_shell,
}


# --- meshing -----------------------------------------------------------------------
def _fragmented(parts):
    """draw(occ) -> [(region name, volume)] for parts = [(name, shape draw)].

    All volumes are fragmented together, so touching bodies share a conforming
    interface; where bodies overlap, the later part owns the overlap."""
    def draw(occ):
        owner = []  # (name, volume tag) per drawn volume, in drawing order
        for name, shape in parts:
            owner += [(name, v) for v in shape(occ)]
        if len(owner) == 1:
            return owner
        dimtags = [(3, v) for _, v in owner]
        _, pieces = occ.fragment(dimtags[:1], dimtags[1:])
        region_of = {}
        for (name, _), out in zip(owner, pieces):
            for dim, tag in out:
                if dim == 3:
                    region_of[tag] = name  # later parts override earlier ones
        return [(n, v) for v, n in region_of.items()]
    return draw


def _mesh(draw, names, h, comm, model_name, options=None, edge=None):
    """Mesh the volumes of draw(occ) -> [(region name, tag)] with element size h (m).

    Region i of `names` (in order) gets physical tag i + 1. `options`: gmsh options.
    `edge` = (h_edge, width) in m: element size h_edge at the side faces (surfaces not
    normal to z), growing linearly to h at distance `width` from them."""
    _positive(h=h)
    hn = h / NM

    def build(model):
        occ = model.occ
        region_of = draw(occ)
        occ.synchronize()
        volume = sum(occ.getMass(3, tag) for _, tag in region_of)
        # a regular tetrahedron of edge h has volume h³/(6√2) ≈ 0.12 h³
        estimate = volume / (0.12 * hn ** 3)
        if edge is not None:
            estimate *= 2.0  # the refined band; a rough bound is enough for the check
            _refine_side_faces(model, edge[0] / NM, edge[1] / NM, hn)
        if estimate > MAX_TETRAHEDRA:
            raise MeshError(f"h = {h!r} m would give about {estimate:.2g} tetrahedra "
                            f"(limit {MAX_TETRAHEDRA}); choose a larger element size")
        for tag, name in enumerate(names, start=1):
            vols = sorted(v for n, v in region_of if n == name)
            if not vols:
                raise MeshError(f"region {name!r} is entirely covered by later bodies")
            model.addPhysicalGroup(3, vols, tag)
            model.setPhysicalName(3, tag, name)

    if edge is not None:  # else gmsh spreads the fine boundary size over the whole face
        options = {**(options or {}), "Mesh.MeshSizeExtendFromBoundary": 0}
    return generate(build, hn, comm=comm, unit_length=NM, name=model_name, options=options)


def _refine_side_faces(model, h_edge, width, h):
    """A gmsh background size field: h_edge on the faces that are not normal to z
    (the lateral faces of an extruded film), rising to h at `width` (model units)."""
    # a face's z-extent: the film thickness for a side, OCC's tolerance (~1e-7) for a
    # top or bottom face
    extent = {tag: np.subtract(*model.getBoundingBox(2, tag)[5:1:-3])
              for _, tag in model.getEntities(2)}
    thickness = max(extent.values())
    sides = [tag for tag, dz in extent.items() if dz > 0.5 * thickness]
    distance = model.mesh.field.add("Distance")
    model.mesh.field.setNumbers(distance, "SurfacesList", sides)
    threshold = model.mesh.field.add("Threshold")
    model.mesh.field.setNumber(threshold, "InField", distance)
    model.mesh.field.setNumber(threshold, "SizeMin", h_edge)
    model.mesh.field.setNumber(threshold, "SizeMax", h)
    model.mesh.field.setNumber(threshold, "DistMin", 0.0)
    model.mesh.field.setNumber(threshold, "DistMax", width)
    model.mesh.field.setAsBackgroundMesh(threshold)


def _bodies(parts, h, comm, model_name, options=None):
    names = list(dict.fromkeys(name for name, _ in parts))
    for name in names:
        if not isinstance(name, str) or not name:
            raise MeshError(f"region name must be a non-empty string, got {name!r}")
    return _mesh(_fragmented(parts), names, h, comm, model_name, options)


def _one(name, shape, h, comm, model_name):
    return _bodies([(name, shape)], h, comm, model_name)


# --- extruded (prismatic) bodies --------------------------------------------------
def _rectangle(lx, ly):
    return lambda occ: occ.addRectangle(-lx / NM / 2, -ly / NM / 2, 0, lx / NM, ly / NM)


def _disk(radius):
    return lambda occ: occ.addDisk(0, 0, 0, radius / NM, radius / NM)


def _annulus(outer_radius, inner_radius):
    def face(occ):
        out, _ = occ.cut([(2, _disk(outer_radius)(occ))], [(2, _disk(inner_radius)(occ))])
        return out[0][1]
    return face


def _annular_sector(outer_radius, inner_radius, angle):
    """Annulus between the radii for polar angles in [−angle/2, angle/2] (xy plane, nm)."""
    def face(occ):
        centre = occ.addPoint(0, 0, 0)

        def arc(r):  # two halves, each < π, as a circle arc needs
            ends = [occ.addPoint(r / NM * math.cos(p), r / NM * math.sin(p), 0)
                    for p in (-angle / 2, 0.0, angle / 2)]
            return ends, [occ.addCircleArc(ends[0], centre, ends[1]),
                          occ.addCircleArc(ends[1], centre, ends[2])]
        (o0, _, o2), outer = arc(outer_radius)
        (i0, _, i2), inner = arc(inner_radius)
        loop = [occ.addLine(i0, o0), *outer, occ.addLine(o2, i2), -inner[1], -inner[0]]
        surface = occ.addPlaneSurface([occ.addCurveLoop(loop)])
        occ.remove([(0, centre)])
        return surface
    return face


def _extruded(face, thicknesses, names, h, center=(0.0, 0.0, 0.0), axis="z", layers=None):
    """draw(occ) for a stack of prisms with cross-section face(occ) (a surface drawn in
    the xy plane about the origin, nm), extruded along `axis` with `thicknesses` (m),
    centred at `center` (m); layer i is region names[i].

    Each layer gets ceil(t/h) element layers: the tetrahedra are prisms cut in three, so
    a film one element thick has no slivers (a Delaunay mesh of a thin slab does: four
    nodes on its two faces, nearly coplanar), and layers share their interface nodes.
    `layers` (an int) overrides ceil(t/h) for every layer."""
    _positive(h=h, **{f"thicknesses[{i}]": t for i, t in enumerate(thicknesses)})
    c = np.array(_point(center))
    d = _axis(axis)
    z = np.array([0.0, 0.0, 1.0])

    def draw(occ):
        base = [(2, face(occ))]
        turn = np.cross(z, d)
        if np.linalg.norm(turn) > 1e-12:
            occ.rotate(base, 0, 0, 0, *turn, math.atan2(np.linalg.norm(turn), z @ d))
        elif d[2] < 0:
            occ.rotate(base, 0, 0, 0, 1, 0, 0, math.pi)
        occ.translate(base, *(c - d * sum(thicknesses) / NM / 2))
        out = []
        for name, t in zip(names, thicknesses):
            n = int(layers) if layers else max(1, math.ceil(t / h - 1e-6))
            ext = occ.extrude(base, *(d * t / NM), numElements=[n], recombine=False)
            base = [ext[0]]  # the top face is the next layer's bottom
            out.append((name, ext[1][1]))
        return out
    return draw


def _prism(name, face, length, h, comm, center, axis, model_name, layers=None, edge=None):
    if not isinstance(name, str) or not name:
        raise MeshError(f"name must be a non-empty string, got {name!r}")
    if layers is not None and not (isinstance(layers, (int, np.integer)) and layers >= 1):
        raise MeshError(f"layers must be a positive integer (element layers across the "
                        f"thickness), got {layers!r}")
    return _mesh(_extruded(face, [length], [name], h, center, axis, layers), [name], h, comm,
                 model_name, edge=edge)


# --- public builders ---------------------------------------------------------------
def box(lx, ly, lz, h, comm=MPI.COMM_WORLD, center=(0.0, 0.0, 0.0), name="magnet",
        layers=None, edge_h=None, edge_width=None):
    """A cuboid lx × ly × lz (m) centred at `center` (m), element size h (m).

    Meshed as an extruded rectangle with ceil(lz/h) element layers (no slivers in thin
    films), or `layers` of them. One layer across a thin film underestimates the
    in-plane demagnetising field near its edges (the potential varies like d log d
    there): 500 × 125 × 3 nm at h = 5 nm gives in-plane factors −10 % low with one
    layer, −1 % with four (tests/test_demag.py). Volume lx·ly·lz.

    `edge_h` (m): a finer in-plane element size at the four side faces, growing
    linearly to h over `edge_width` (m, default 4·h). The stray field of a thin film
    varies fastest within a film thickness of its edges; refining there is cheaper than
    refining everywhere (docs/llg.md, standard problem #4)."""
    _positive(lx=lx, ly=ly, lz=lz)
    edge = None
    if edge_h is not None:
        edge_width = 4 * h if edge_width is None else edge_width
        _positive(edge_h=edge_h, edge_width=edge_width)
        if edge_h > h:
            raise MeshError(f"edge_h = {edge_h!r} m must not exceed h = {h!r} m")
        edge = (edge_h, edge_width)
    return _prism(name, _rectangle(lx, ly), lz, h, comm, center, "z", "box", layers, edge)


def film(lx, ly, thickness, h, comm=MPI.COMM_WORLD, center=(0.0, 0.0, 0.0), name="magnet"):
    """A thin film lx × ly × thickness (m) in the xy plane, centred at `center` (m)."""
    return box(lx, ly, thickness, h, comm=comm, center=center, name=name)


def disk(radius, thickness, h, comm=MPI.COMM_WORLD, center=(0.0, 0.0, 0.0), name="magnet"):
    """A disk of `radius` (m) and `thickness` (m) along z, centred at `center` (m).

    Volume π r² t."""
    _positive(radius=radius, thickness=thickness)
    return _prism(name, _disk(radius), thickness, h, comm, center, "z", "disk")


def cylinder(radius, length, h, comm=MPI.COMM_WORLD, center=(0.0, 0.0, 0.0), axis="z",
             name="magnet"):
    """A solid cylinder (nanowire) of `radius` and `length` (m) along `axis`
    ('x', 'y', 'z' or a 3-vector), centred at `center` (m). Volume π r² L."""
    _positive(radius=radius, length=length)
    return _prism(name, _disk(radius), length, h, comm, center, axis, "cylinder")


nanowire = cylinder


def nanotube(outer_radius, inner_radius, length, h, comm=MPI.COMM_WORLD,
             center=(0.0, 0.0, 0.0), axis="z", name="magnet"):
    """A hollow cylinder (m) along `axis`, centred at `center`. Volume π (R² − r²) L."""
    _inner_outer(outer_radius, inner_radius)
    _positive(length=length)
    return _prism(name, _annulus(outer_radius, inner_radius), length, h, comm, center, axis,
                  "nanotube")


def ring(outer_radius, inner_radius, thickness, h, comm=MPI.COMM_WORLD,
         center=(0.0, 0.0, 0.0), name="magnet"):
    """A flat ring (annulus of height `thickness`, m) in the xy plane. Volume π (R² − r²) t."""
    _inner_outer(outer_radius, inner_radius)
    _positive(thickness=thickness)
    return _prism(name, _annulus(outer_radius, inner_radius), thickness, h, comm, center, "z",
                  "ring")


def curved_strip(radius, width, thickness, angle, h, comm=MPI.COMM_WORLD,
                 center=(0.0, 0.0, 0.0), name="magnet"):
    """An arc of a ring with rectangular cross-section width × thickness (m).

    `radius` (m) is the mid-line radius about `center`, `angle` (rad, 0 < angle < 2π)
    the opening, symmetric about +x; the strip lies in the plane z = center[2].
    Volume = angle · radius · width · thickness."""
    _curved_strip(radius, width, thickness, angle, center)  # checks the arguments
    face = _annular_sector(radius + width / 2, radius - width / 2, angle)
    return _prism(name, face, thickness, h, comm, center, "z", "curved_strip")


def ellipsoid(a, b, c, h, comm=MPI.COMM_WORLD, center=(0.0, 0.0, 0.0), name="magnet"):
    """An ellipsoid with semi-axes a, b, c (m) along x, y, z. Volume 4π abc / 3."""
    return _one(name, _ellipsoid(a, b, c, center), h, comm, "ellipsoid")


def sphere(radius, h, comm=MPI.COMM_WORLD, center=(0.0, 0.0, 0.0), name="magnet"):
    """A sphere of `radius` (m). Volume 4π r³ / 3."""
    return _one(name, _sphere(radius, center), h, comm, "sphere")


def spherical_shell(outer_radius, inner_radius, h, comm=MPI.COMM_WORLD,
                    center=(0.0, 0.0, 0.0), polar_angle=None, name="magnet"):
    """A spherical shell between radii (m); with `polar_angle` θ (rad) only the cap
    ϑ ≤ θ around +z. Volume 2π (R³ − r³)(1 − cos θ) / 3 (θ = π: the whole shell)."""
    # gmsh's default surface mesher (Frontal-Delaunay) leaves slivers between the two
    # spheres of a thin shell (worst quality 0.001 for 30/28 nm, h = 2 nm); with
    # MeshAdapt surfaces the worst is 0.25, at ~8x the meshing time.
    shape = _spherical_shell(outer_radius, inner_radius, center, polar_angle)
    return _bodies([(name, shape)], h, comm, "spherical_shell", {"Mesh.Algorithm": 1})


def two_spheres(radius, separation, h, comm=MPI.COMM_WORLD, center=(0.0, 0.0, 0.0),
                names=("magnet", "magnet")):
    """Two disconnected spheres of `radius` (m) whose centres are `separation` (m,
    centre to centre, > 2·radius) apart along x, symmetric about `center`.

    `names`: region names of the −x and +x sphere; equal names give one region."""
    _positive(radius=radius, separation=separation)
    if isinstance(names, str) or len(names) != 2:
        raise MeshError(f"names must be two region names (−x sphere, +x sphere), got {names!r}")
    if separation <= 2 * radius:
        raise MeshError(f"separation ({separation!r} m, centre to centre) must exceed "
                        f"2·radius ({2 * radius!r} m): the spheres would touch or overlap")
    c = np.asarray(_point(center)) * NM
    dx = np.array([separation / 2, 0.0, 0.0])
    return bodies([(names[0], "sphere", dict(radius=radius, center=c - dx)),
                   (names[1], "sphere", dict(radius=radius, center=c + dx))],
                  h, comm=comm)


def layers(lx, ly, thicknesses, names, h, comm=MPI.COMM_WORLD, center=(0.0, 0.0, 0.0)):
    """A stack of lx × ly boxes (m) along z, bottom first, with `thicknesses` (m).

    Layer i is region ``names[i]`` (repeated names share a region). Interfaces are
    conforming (shared nodes), so exchange couples the layers; each layer has
    ceil(t/h) element layers. The stack is centred at `center` (m)."""
    thicknesses, names = list(thicknesses), list(names)
    if not thicknesses or len(thicknesses) != len(names):
        raise MeshError(f"layers needs one name per thickness, got {len(thicknesses)} "
                        f"thicknesses and {len(names)} names")
    for name in names:
        if not isinstance(name, str) or not name:
            raise MeshError(f"region name must be a non-empty string, got {name!r}")
    _positive(lx=lx, ly=ly)
    draw = _extruded(_rectangle(lx, ly), thicknesses, names, h, center, "z")
    return _mesh(draw, list(dict.fromkeys(names)), h, comm, "layers")


def bodies(parts, h, comm=MPI.COMM_WORLD):
    """Several bodies and regions in one conforming mesh.

    `parts`: list of ``(region name, shape, kwargs)`` with shape one of :data:`SHAPES`
    and kwargs the shape's builder arguments in metres (without h, comm, name), e.g.
    ``("core", "sphere", dict(radius=5e-9))``. Touching bodies share their interface;
    where bodies overlap the later one wins (a core drawn after its shell replaces it).
    """
    drawn = []
    for part in parts:
        try:
            name, shape, kwargs = part
        except (TypeError, ValueError):
            raise MeshError(f"each part must be (name, shape, kwargs), got {part!r}") from None
        if shape not in SHAPES:
            raise MeshError(f"unknown shape {shape!r}; known shapes: {sorted(SHAPES)}")
        try:
            drawn.append((name, SHAPES[shape](**kwargs)))
        except TypeError as exc:
            raise MeshError(f"bad arguments for shape {shape!r}: {exc}") from None
    if not drawn:
        raise MeshError("bodies() needs at least one part")
    return _bodies(drawn, h, comm, "bodies")
