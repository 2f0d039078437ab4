"""Bad input is rejected with errors that name the problem."""
import math

import numpy as np
import pytest

import femag
from femag.mesh import generate


@pytest.fixture(scope="module")
def small_box(comm):
    return femag.geometries.box(20e-9, 10e-9, 10e-9, h=5e-9, comm=comm)


@pytest.fixture(scope="module")
def two_regions(comm):
    def build(model):
        a = model.occ.addBox(0, 0, 0, 10, 10, 10)
        b = model.occ.addBox(20, 0, 0, 10, 10, 10)
        model.occ.synchronize()
        model.addPhysicalGroup(3, [a], 1)
        model.setPhysicalName(3, 1, "left")
        model.addPhysicalGroup(3, [b], 2)
        model.setPhysicalName(3, 2, "right")
    return generate(build, 5.0, comm=comm, unit_length=1e-9)


@pytest.mark.parametrize("kwargs, match", [
    (dict(Ms=0.0), "Ms must be >"),
    (dict(Ms=-8e5), "Ms must be >"),
    (dict(Ms=1.0), "Ms = 1 A/m is implausibly small"),  # μ0Ms in tesla by mistake
    (dict(Ms=8e5, A=-1e-11), "A must be ≥ 0"),
    (dict(Ms=8e5, A=13.0), "A = 13 J/m is implausibly large"),
    (dict(Ms=8e5, alpha=-0.1), "alpha must be ≥ 0"),
    (dict(Ms=8e5, Ku=float("nan")), "Ku must be finite"),
    (dict(Ms=8e5, axis=(0, 0, 0)), "axis must be a finite, non-zero"),
    (dict(Ms=8e5, gamma=1.76e11), "gamma"),
    (dict(Ms=8e5, Tc=-5.0), "Tc must be >"),
    (dict(Ms="800 kA/m"), "Ms must be a number"),
])
def test_material_validation(kwargs, match):
    with pytest.raises(femag.MaterialError, match=match):
        femag.Material(**kwargs)


def test_unknown_keywords_are_errors(small_box):
    with pytest.raises(TypeError, match="Mss"):
        femag.Material(Mss=8e5)
    mat = femag.Material(Ms=8e5, A=1e-11)
    with pytest.raises(TypeError, match="equaton"):
        femag.Simulation(small_box, mat, equaton="llg")
    with pytest.raises(ValueError, match="equation must be one of"):
        femag.Simulation(small_box, mat, equation="lgl")


@pytest.mark.parametrize("value, match", [
    ((float("nan"), 0, 1), "NaN or infinite"),
    ((0, 0, 0), "zero length"),
    (lambda x: np.array([x[0] * 0, x[0] * 0, np.where(x[0] > 0, 1.0, 0.0)]), "zero length"),
    (lambda x: np.array([x[0] * np.inf, x[1], x[2]]), "NaN or infinite"),
    (np.ones((3, 3)), "array of shape"),
])
def test_bad_initial_m(small_box, value, match):
    sim = femag.Simulation(small_box, femag.Material(Ms=8e5, A=1e-11))
    with pytest.raises(ValueError, match=match):
        sim.m = value


def test_initial_m_is_normalised(small_box):
    sim = femag.Simulation(small_box, femag.Material(Ms=8e5, A=1e-11))
    sim.m = (3, 4, 0)
    assert sim.m_average() == pytest.approx([0.6, 0.8, 0.0], abs=1e-12)
    sim.m = lambda x: np.array([1 + 0 * x[0], x[1] * 1e8, 0 * x[0]])
    norms = np.linalg.norm(sim.nodal(sim.m), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-14)


def test_mesh_without_volume_tags(comm):
    def build(model):
        model.occ.addBox(0, 0, 0, 10, 10, 10)
    with pytest.raises(femag.MeshError, match="no physical volume groups"):
        generate(build, 5.0, comm=comm, unit_length=1e-9)


def test_mesh_in_nanometres_without_scale(comm):
    def build(model):
        b = model.occ.addBox(0, 0, 0, 100, 10, 10)
        model.occ.synchronize()
        model.addPhysicalGroup(3, [b], 1)
    with pytest.raises(femag.MeshError, match="unit_length=1e-9"):
        generate(build, 5.0, comm=comm)


def test_region_without_material(two_regions):
    mat = femag.Material(Ms=8e5, A=1e-11)
    with pytest.raises(femag.MaterialError, match="no material for region.*'right'"):
        femag.Simulation(two_regions, {"left": mat})
    with pytest.raises(femag.MaterialError, match="no region named 'middle'"):
        femag.Simulation(two_regions, {"left": mat, "right": mat, "middle": mat})


def test_two_regions_two_materials(two_regions):
    """Per-region parameters: Zeeman energy sums Ms_i V_i over the regions."""
    soft = femag.Material(Ms=8e5, A=1e-11)
    hard = femag.Material(Ms=4e5, A=1e-11, Ku=1e5, axis=(0, 0, 1))
    sim = femag.Simulation(two_regions, {"left": soft, 2: hard})
    H = 1e4
    sim.add(femag.Zeeman(H=(0, 0, H)), femag.UniaxialAnisotropy())
    sim.m = (1, 0, 0)
    vol = 1e-24  # each cube 10 nm
    e = sim.energies()
    assert e["zeeman"] == pytest.approx(0.0, abs=1e-30)
    assert e["anisotropy"] == pytest.approx(1e5 * vol, rel=1e-10)
    sim.m = (0, 0, 1)
    assert sim.energies()["zeeman"] == pytest.approx(-femag.MU0 * H * (8e5 + 4e5) * vol, rel=1e-10)
    assert sim.m_average("right") == pytest.approx([0, 0, 1])
    # the lumped field of the hard region's anisotropy: H = 2K/(μ0 Ms) in the right cube
    h = sim.probe([[25e-9, 5e-9, 5e-9], [5e-9, 5e-9, 5e-9]], "anisotropy")
    assert h[0, 2] == pytest.approx(2 * 1e5 / (femag.MU0 * 4e5), rel=1e-10)
    assert h[1, 2] == pytest.approx(0.0, abs=1e-6)


def test_zeeman_arguments():
    with pytest.raises(ValueError, match="exactly one of H="):
        femag.Zeeman()
    with pytest.raises(ValueError, match="exactly one of H="):
        femag.Zeeman(H=(1, 0, 0), B=(1, 0, 0))
    with pytest.raises(ValueError, match="tesla"):
        femag.Zeeman(B=(8e5, 0, 0))
    with pytest.raises(ValueError, match="finite 3-vector"):
        femag.Zeeman(H=(1, 0))
    assert math.isclose(femag.MU0, 4e-7 * math.pi)
