"""Geometry builders: analytic volumes and extents, region tags, conforming interfaces,
rank-independent statistics, bad arguments.

Volume tolerances follow from h: a surface triangulated with edges h inscribed in a
curved surface of radius r loses a layer of depth ~ h²/(8r), i.e. a relative volume
~ (h/r)²/4 for a sphere; we allow (h/r)²/2 with r the smallest radius involved.
Convex curved bodies must come out *smaller* than the analytic volume (inscribed).
Flat-faced bodies must match to rounding.
"""
import math

import numpy as np
import pytest
from mpi4py import MPI

import femag.geometries as geo
from femag.mesh import MeshError
from femag import compat

NM = 1e-9
PI = math.pi


def _owned_cells(mesh):
    """(coordinates (n,4,3), tag (n,)) of the owned tetrahedra."""
    dmesh = mesh.mesh
    n = dmesh.topology.index_map(3).size_local
    x = dmesh.geometry.x[compat.geometry_dofmap(dmesh)[:n]]
    tags = np.zeros(n, dtype=np.int64)
    idx, val = mesh.cell_tags.indices, mesh.cell_tags.values
    keep = idx < n
    tags[idx[keep]] = val[keep]
    return x, tags


def region_volumes(mesh):
    """{region name: volume (m³)} summed over ranks."""
    p, tags = _owned_cells(mesh)
    vol = np.abs(np.einsum("ij,ij->i", p[:, 1] - p[:, 0],
                           np.cross(p[:, 2] - p[:, 0], p[:, 3] - p[:, 0]))) / 6.0
    return {name: mesh.comm.allreduce(float(vol[tags == tag].sum()), op=MPI.SUM)
            for name, tag in mesh.regions.items()}


def extent(mesh):
    """(lo, hi) corners (m) of the mesh's bounding box, global."""
    x = mesh.mesh.geometry.x
    lo = x.min(axis=0) if len(x) else np.full(3, np.inf)
    hi = x.max(axis=0) if len(x) else np.full(3, -np.inf)
    return (np.array([mesh.comm.allreduce(float(v), op=MPI.MIN) for v in lo]),
            np.array([mesh.comm.allreduce(float(v), op=MPI.MAX) for v in hi]))


def exterior_area(mesh):
    """Area (m²) of the exterior facets (an internal non-conforming interface would add to it)."""
    import dolfinx.mesh
    dmesh = mesh.mesh
    dmesh.topology.create_connectivity(2, 3)
    facets = dolfinx.mesh.exterior_facet_indices(dmesh.topology)
    facets = facets[facets < dmesh.topology.index_map(2).size_local]
    f2v = compat.create_connectivity(dmesh, 2, 0)
    # geometry node = vertex for a linear mesh; map through the cell dofmaps
    c2v = compat.create_connectivity(dmesh, 3, 0)
    dofs = compat.geometry_dofmap(dmesh)
    vertex_to_node = {}
    for c in range(len(dofs)):
        for v, d in zip(c2v.links(c), dofs[c]):
            vertex_to_node[v] = d
    area = 0.0
    x = dmesh.geometry.x
    for f in facets:
        a, b, c = (x[vertex_to_node[v]] for v in f2v.links(f))
        area += 0.5 * np.linalg.norm(np.cross(b - a, c - a))
    return mesh.comm.allreduce(area, op=MPI.SUM)


# name, builder call (comm -> Mesh), analytic volume (m³), smallest radius (m) or None if
# flat, (lo, hi) analytic bounding box (m), convex?
CASES = {
    "box": (lambda comm: geo.box(20 * NM, 12 * NM, 6 * NM, 3 * NM, comm=comm),
            20 * 12 * 6 * NM**3, None, ((-10, -6, -3), (10, 6, 3)), True, 3 * NM),
    "film": (lambda comm: geo.film(40 * NM, 20 * NM, 2 * NM, 4 * NM, comm=comm,
                                   center=(5 * NM, 0, 1 * NM)),
             40 * 20 * 2 * NM**3, None, ((-15, -10, 0), (25, 10, 2)), True, 4 * NM),
    "sphere": (lambda comm: geo.sphere(10 * NM, 2.5 * NM, comm=comm),
               4 / 3 * PI * 1000 * NM**3, 10 * NM, ((-10,) * 3, (10,) * 3), True, 2.5 * NM),
    "ellipsoid": (lambda comm: geo.ellipsoid(12 * NM, 9 * NM, 7 * NM, 2 * NM, comm=comm),
                  4 / 3 * PI * 12 * 9 * 7 * NM**3, 7 * NM, ((-12, -9, -7), (12, 9, 7)), True,
                  2 * NM),
    "disk": (lambda comm: geo.disk(20 * NM, 5 * NM, 3 * NM, comm=comm, center=(0, 0, 10 * NM)),
             PI * 400 * 5 * NM**3, 20 * NM, ((-20, -20, 7.5), (20, 20, 12.5)), True, 3 * NM),
    "cylinder": (lambda comm: geo.cylinder(5 * NM, 40 * NM, 2.5 * NM, comm=comm, axis="x"),
                 PI * 25 * 40 * NM**3, 5 * NM, ((-20, -5, -5), (20, 5, 5)), True, 2.5 * NM),
    "nanowire": (lambda comm: geo.nanowire(4 * NM, 20 * NM, 2 * NM, comm=comm, axis="y"),
                 PI * 16 * 20 * NM**3, 4 * NM, ((-4, -10, -4), (4, 10, 4)), True, 2 * NM),
    "nanotube": (lambda comm: geo.nanotube(10 * NM, 6 * NM, 30 * NM, 2.5 * NM, comm=comm),
                 PI * (100 - 36) * 30 * NM**3, 6 * NM, ((-10, -10, -15), (10, 10, 15)), False,
                 2.5 * NM),
    "ring": (lambda comm: geo.ring(20 * NM, 12 * NM, 4 * NM, 3 * NM, comm=comm),
             PI * (400 - 144) * 4 * NM**3, 12 * NM, ((-20, -20, -2), (20, 20, 2)), False,
             3 * NM),
    # quarter arc about +x: x from 26 cos45° to 34, y within ±34 sin45°
    "curved_strip": (lambda comm: geo.curved_strip(30 * NM, 8 * NM, 4 * NM, PI / 2, 3 * NM,
                                                   comm=comm),
                     PI / 2 * 30 * 8 * 4 * NM**3, 26 * NM,
                     ((26 * math.cos(PI / 4), -34 * math.sin(PI / 4), -2),
                      (34, 34 * math.sin(PI / 4), 2)), False, 3 * NM),
    "spherical_shell": (lambda comm: geo.spherical_shell(12 * NM, 8 * NM, 2.5 * NM, comm=comm),
                        4 / 3 * PI * (1728 - 512) * NM**3, 8 * NM, ((-12,) * 3, (12,) * 3),
                        False, 2.5 * NM),
    # cap ϑ ≤ 60°: z from 8 cos60° = 4 to 12
    "shell_cap": (lambda comm: geo.spherical_shell(12 * NM, 8 * NM, 2.5 * NM, comm=comm,
                                                   polar_angle=PI / 3),
                  2 / 3 * PI * (1728 - 512) * 0.5 * NM**3, 8 * NM,
                  ((-12 * math.sin(PI / 3), -12 * math.sin(PI / 3), 4), (12 * math.sin(PI / 3),
                                                                         12 * math.sin(PI / 3),
                                                                         12)), False, 2.5 * NM),
    # cap ϑ ≤ 120°: everything above z = −12 cos60° = −6
    "shell_cap_wide": (lambda comm: geo.spherical_shell(12 * NM, 8 * NM, 2.5 * NM, comm=comm,
                                                        polar_angle=2 * PI / 3),
                       2 / 3 * PI * (1728 - 512) * 1.5 * NM**3, 8 * NM,
                       ((-12, -12, -6), (12, 12, 12)), False, 2.5 * NM),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_volume_extent_and_tags(comm, case):
    build, volume, radius, (lo, hi), convex, h = CASES[case]
    mesh = build(comm)
    assert mesh.regions == {"magnet": 1}
    vols = region_volumes(mesh)
    tol = 1e-9 if radius is None else 0.5 * (h / radius) ** 2
    assert vols["magnet"] == pytest.approx(volume, rel=tol, abs=0)
    if convex and radius is not None:
        assert vols["magnet"] < volume  # the mesh is inscribed in a convex body
    assert mesh.statistics()["volume"] == pytest.approx(vols["magnet"], rel=1e-12, abs=0)
    # every bounding-box side within the sagitta h²/(2r) (0 for flat bodies) of the analytic one
    sag = 1e-12 if radius is None else h * h / (2 * radius)
    got_lo, got_hi = extent(mesh)
    assert np.all(np.abs(got_lo - np.array(lo) * NM) <= sag + 1e-15), (got_lo, lo)
    assert np.all(np.abs(got_hi - np.array(hi) * NM) <= sag + 1e-15), (got_hi, hi)


@pytest.mark.parametrize("build", [
    lambda comm: geo.film(60 * NM, 20 * NM, 2 * NM, 2 * NM, comm=comm),
    lambda comm: geo.disk(30 * NM, 2 * NM, 3 * NM, comm=comm),
    lambda comm: geo.ring(30 * NM, 20 * NM, 3 * NM, 3 * NM, comm=comm),
    lambda comm: geo.curved_strip(30 * NM, 6 * NM, 2 * NM, 5.0, 2.5 * NM, comm=comm),
    lambda comm: geo.nanotube(12 * NM, 10 * NM, 20 * NM, 2.5 * NM, comm=comm, axis=(1, 1, 1)),
    lambda comm: geo.spherical_shell(20 * NM, 17 * NM, 3 * NM, comm=comm),
], ids=["film", "disk", "ring", "curved_strip", "nanotube", "spherical_shell"])
def test_thin_bodies_have_no_slivers(comm, build):
    """One element through the thickness without slivers: extruded prisms for the flat
    shapes (a Delaunay film 2 nm thick with h = 2 nm had worst quality 0.002), MeshAdapt
    surfaces for the shell (0.009 with gmsh's default)."""
    s = build(comm).statistics()
    assert s["worst_quality"] > 0.3


def test_oblique_tube_and_wide_strip_volumes(comm):
    """Extrusion along a tilted axis and an arc wider than π keep their volumes."""
    tube = geo.nanotube(12 * NM, 8 * NM, 20 * NM, 2 * NM, comm=comm, axis=(1, 1, 1),
                        center=(5 * NM, 0, 0))
    assert tube.statistics()["volume"] == pytest.approx(PI * (144 - 64) * 20 * NM**3,
                                                         rel=0.5 * (2 / 8) ** 2)
    lo, hi = extent(tube)
    assert np.allclose((lo + hi) / 2, [5 * NM, 0, 0], atol=0.1 * NM)  # centred
    strip = geo.curved_strip(20 * NM, 4 * NM, 2 * NM, 1.5 * PI, 2 * NM, comm=comm)
    assert strip.statistics()["volume"] == pytest.approx(1.5 * PI * 20 * 4 * 2 * NM**3,
                                                          rel=0.5 * (2 / 18) ** 2)
    lo, hi = extent(strip)
    # the 270° arc about +x reaches x = −22 nm (at ±135°: −22 cos45°) and y = ±22 nm
    assert lo[0] == pytest.approx(-22 * NM * math.cos(PI / 4), abs=0.1 * NM)
    assert hi[1] == pytest.approx(22 * NM, abs=2 * NM * 2 * NM / (2 * 22 * NM))


@pytest.mark.parametrize("case", ["sphere", "film", "nanotube", "curved_strip"])
def test_statistics_independent_of_ranks(comm, case):
    """The same geometry meshed on all ranks and on each rank alone: equal global counts."""
    build = CASES[case][0]
    together = build(comm).statistics()
    alone = build(MPI.COMM_SELF).statistics()
    for key in ("nodes", "tetrahedra", "boundary_nodes"):
        assert together[key] == alone[key], key
    for key in ("volume", "min_edge", "max_edge", "worst_quality"):
        assert together[key] == pytest.approx(alone[key], rel=1e-12), key


def test_two_spheres_one_or_two_regions(comm):
    r, d, h = 6 * NM, 15 * NM, 2 * NM
    one = geo.two_spheres(r, d, h, comm=comm)
    two = geo.two_spheres(r, d, h, comm=comm, names=("left", "right"))
    v_one, v_two = region_volumes(one), region_volumes(two)
    sphere = 4 / 3 * PI * r**3
    assert one.regions == {"magnet": 1} and two.regions == {"left": 1, "right": 2}
    assert v_one["magnet"] == pytest.approx(2 * sphere, rel=0.5 * (h / r) ** 2)
    assert v_two["left"] == pytest.approx(v_two["right"], rel=1e-3)
    lo, hi = extent(two)
    assert lo[0] == pytest.approx(-d / 2 - r, abs=h * h / r)
    assert hi[0] == pytest.approx(d / 2 + r, abs=h * h / r)
    # disconnected: the exterior is both spheres' surfaces (no facet shared between them)
    area = exterior_area(two)
    assert area == pytest.approx(2 * 4 * PI * r**2, rel=(h / r) ** 2)


def test_layers_conforming_regions(comm):
    lx, ly, ts = 20 * NM, 10 * NM, [2 * NM, 3 * NM, 2 * NM]
    mesh = geo.layers(lx, ly, ts, ["hard", "spacer", "hard"], 2 * NM, comm=comm)
    assert mesh.regions == {"hard": 1, "spacer": 2}
    vols = region_volumes(mesh)
    assert vols["hard"] == pytest.approx(lx * ly * 4 * NM, rel=1e-9)
    assert vols["spacer"] == pytest.approx(lx * ly * 3 * NM, rel=1e-9)
    T = sum(ts)
    # non-conforming interfaces would show up as extra exterior facets
    assert exterior_area(mesh) == pytest.approx(2 * (lx * ly + lx * T + ly * T), rel=1e-9)
    lo, hi = extent(mesh)
    assert lo[2] == pytest.approx(-T / 2, abs=1e-15) and hi[2] == pytest.approx(T / 2, abs=1e-15)


def test_bodies_fragment_keeps_mesh_conforming_and_tags(comm):
    """A sphere core inside a shell and a box touching the shell, via occ.fragment."""
    r_core, r_out, h = 5 * NM, 9 * NM, 2 * NM
    mesh = geo.bodies([
        ("shell", "spherical_shell", dict(outer_radius=r_out, inner_radius=r_core)),
        ("core", "sphere", dict(radius=r_core)),
        ("lead", "box", dict(lx=8 * NM, ly=8 * NM, lz=8 * NM, center=(r_out + 4 * NM, 0, 0))),
    ], h, comm=comm)
    assert mesh.regions == {"shell": 1, "core": 2, "lead": 3}
    vols = region_volumes(mesh)
    assert vols["lead"] == pytest.approx(512 * NM**3, rel=0.05)  # the shell bulges into it
    assert vols["core"] == pytest.approx(4 / 3 * PI * r_core**3, rel=0.5 * (h / r_core) ** 2)
    total = sum(vols.values())
    assert total == pytest.approx(4 / 3 * PI * r_out**3 + 512 * NM**3, rel=0.05)
    # conforming: the exterior is the outer sphere and the box, not the core's surface
    outer = 4 * PI * r_out**2 + 6 * 64 * NM**2
    assert exterior_area(mesh) < outer
    assert exterior_area(mesh) > 0.8 * outer


def test_bodies_later_part_wins_overlap(comm):
    """A sphere drawn after a box inside it takes its volume from the box."""
    r, h = 4 * NM, 2 * NM
    mesh = geo.bodies([("matrix", "box", dict(lx=16 * NM, ly=16 * NM, lz=16 * NM)),
                       ("grain", "sphere", dict(radius=r))], h, comm=comm)
    vols = region_volumes(mesh)
    assert vols["matrix"] + vols["grain"] == pytest.approx(16**3 * NM**3, rel=1e-9)
    assert vols["grain"] == pytest.approx(4 / 3 * PI * r**3, rel=0.5 * (h / r) ** 2)


def test_box_edge_refinement(comm):
    """box(edge_h=...): element size edge_h at the side faces, h in the middle; exact
    volume; more nodes than the uniform mesh, far fewer than the uniform fine one."""
    lx, ly, lz, h, h_edge, width = 80 * NM, 40 * NM, 3 * NM, 5 * NM, 1.25 * NM, 6 * NM
    mesh = geo.box(lx, ly, lz, h, comm=comm, layers=2, edge_h=h_edge, edge_width=width)
    assert region_volumes(mesh)["magnet"] == pytest.approx(lx * ly * lz, rel=1e-9)
    x, _ = _owned_cells(mesh)
    centre = x.mean(axis=1)
    # in-plane edge lengths of each tetrahedron's bottom/top triangles
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    longest = np.max([np.linalg.norm((x[:, i] - x[:, j])[:, :2], axis=1) for i, j in pairs], axis=0)
    side = np.minimum(lx / 2 - np.abs(centre[:, 0]), ly / 2 - np.abs(centre[:, 1]))
    near = comm.allreduce(float(longest[side < h_edge].max()) if np.any(side < h_edge) else 0.0,
                          op=MPI.MAX)
    far = comm.allreduce(float(np.median(longest[side > 2 * width])) if np.any(side > 2 * width)
                         else 0.0, op=MPI.MAX)
    assert near < 2.2 * h_edge, near
    assert far > 0.8 * h, far
    n = mesh.statistics()["nodes"]
    uniform = geo.box(lx, ly, lz, h, comm=comm, layers=2).statistics()["nodes"]
    fine = geo.box(lx, ly, lz, h_edge, comm=comm, layers=2).statistics()["nodes"]
    assert 1.3 * uniform < n < 0.5 * fine, (uniform, n, fine)


@pytest.mark.parametrize("call, message", [
    (lambda: geo.sphere(-5e-9, 1e-9), "radius must be a positive length"),
    (lambda: geo.sphere(100, 10), "larger than 1 mm"),           # nm given as m
    (lambda: geo.disk(50e-9, 5e-9, 2), "h = 2 m is larger"),
    (lambda: geo.box(20e-9, 20e-9, 0.0, 2e-9), "lz must be a positive length"),
    (lambda: geo.sphere(10e-9, 1e-12), "tetrahedra"),            # h far too small
    (lambda: geo.nanotube(5e-9, 8e-9, 20e-9, 2e-9), "inner_radius"),
    (lambda: geo.ring(5e-9, 5e-9, 2e-9, 1e-9), "smaller than"),
    (lambda: geo.curved_strip(20e-9, 5e-9, 2e-9, 7.0, 2e-9), "angle"),
    (lambda: geo.curved_strip(2e-9, 5e-9, 2e-9, 1.0, 1e-9), "width"),
    (lambda: geo.spherical_shell(9e-9, 5e-9, 2e-9, polar_angle=4.0), "polar_angle"),
    (lambda: geo.cylinder(5e-9, 20e-9, 2e-9, axis="w"), "axis"),
    (lambda: geo.two_spheres(5e-9, 8e-9, 2e-9), "separation"),
    (lambda: geo.two_spheres(5e-9, 12e-9, 2e-9, names="ab"), "two region names"),
    (lambda: geo.layers(10e-9, 10e-9, [2e-9, 2e-9], ["a"], 1e-9), "one name per thickness"),
    (lambda: geo.layers(10e-9, 10e-9, [2e-9, -2e-9], ["a", "b"], 1e-9), "thicknesses[1]"),
    (lambda: geo.bodies([("a", "cube", {})], 1e-9), "unknown shape"),
    (lambda: geo.bodies([("a", "sphere", dict(diameter=1e-9))], 1e-9), "bad arguments"),
    (lambda: geo.sphere(5e-9, 1e-9, center=(0, 0, 1)), "center"),
    (lambda: geo.sphere(5e-9, 1e-9, name=""), "name"),
    (lambda: geo.box(20e-9, 20e-9, 3e-9, 2e-9, edge_h=3e-9), "must not exceed"),
    (lambda: geo.box(20e-9, 20e-9, 3e-9, 2e-9, edge_h=1e-9, edge_width=-1e-9), "edge_width"),
])
def test_bad_arguments(call, message):
    with pytest.raises(MeshError, match=message.replace("[", r"\[").replace("]", r"\]")):
        call()
