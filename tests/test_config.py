"""femag.config: schema validation of config files (every problem names its key), SI
conversion, and the pieces built from a config (random initial state)."""
import copy
import math
import os

import numpy as np
import pytest

from femag import config
from femag.config import ConfigError, dumps, validate
from femag.units import MU0

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")

BASE = {
    "name": "tiny",
    "geometry": {"builder": "box", "lx": "20 nm", "ly": "10 nm", "lz": "5 nm", "h": "5 nm"},
    "materials": {"magnet": {"Ms": "800 kA/m", "A": "13 pJ/m", "alpha": 0.5}},
    "terms": {"exchange": True, "zeeman": {"H": ["25 mT", 0, 0]}},
    "initial": {"kind": "uniform", "direction": [0, 1, 0]},
    "stages": [{"kind": "run", "duration": "50 ps", "save_every": "10 ps"}],
}


def changed(path, value=None, delete=False):
    """BASE with the dotted `path` set to `value` (or deleted)."""
    data = copy.deepcopy(BASE)
    keys = path.split(".")
    node = data
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    last = int(keys[-1]) if isinstance(node, list) else keys[-1]
    if delete:
        del node[last]
    else:
        node[last] = value
    return data


def error(data):
    with pytest.raises(ConfigError) as err:
        validate(data, "/tmp/problem.toml")
    return str(err.value)


def test_base_converts_to_si():
    cfg = validate(copy.deepcopy(BASE), "/tmp/problem.toml")
    assert cfg.geometry == {"builder": "box", "args": {"lx": 2e-8, "ly": 1e-8, "lz": 5e-9,
                                                       "h": 5e-9}}
    mat = cfg.materials["magnet"]
    assert (mat.Ms, mat.A, mat.alpha) == (8e5, pytest.approx(1.3e-11), 0.5)
    assert cfg.terms["zeeman"]["H"] == pytest.approx((25e-3 / MU0, 0, 0))
    assert cfg.stages[0]["duration"] == pytest.approx(5e-11)
    assert cfg.stages[0]["integrator"] == "rk45"
    assert cfg.output["folder"] == "/tmp/problem.out"  # beside the config file
    assert cfg.output["checkpoint_every"] == 600.0


def test_toml_round_trip_and_examples(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(dumps(BASE))
    assert config.load(str(path)).materials["magnet"].Ms == 8e5
    for name in ("sp4.toml", "disk_vortex.toml", "llb_heating.toml"):
        cfg = config.load(os.path.join(EXAMPLES, name))
        assert cfg.stages


@pytest.mark.parametrize("path, value, expected", [
    ("materials.magnet.Ms", -8e5, "materials.magnet.Ms: must be > 0 A/m, got -800000"),
    ("materials.magnet.Ms", "5 nm", "materials.magnet.Ms: unit 'nm' is a length"),
    ("materials.magnet.Ms", "800 kA", "unknown unit 'kA'"),
    ("materials.magnet.alpha", "fast", "materials.magnet.alpha must be a number"),
    ("materials.magnet.alpha", -0.1, "materials.magnet.alpha: must be ≥ 0"),
    ("materials.magnet.A", 1.3e-3, "materials.magnet.A: must be ≤ 1e-09 J/m"),
    ("materials.magnet.Mss", 8e5, "did you mean 'Ms'"),
    ("materials.magnet.Ms", float("nan"), "materials.magnet.Ms must be finite"),
    ("materials.magnet.Ms", 50.0, "implausibly small"),   # femag.Material's own check
    ("geometry.lx", "-20 nm", "geometry.lx: must be > 0 m"),
    ("geometry.lx", "2 m", "geometry.lx: must be ≤ 0.001 m"),
    ("geometry.h", "0.001 nm", "tetrahedra"),
    ("geometry.builder", "cube", "geometry.builder: must be one of"),
    ("geometry.center", [0, 0], "geometry.center must be a list of 3"),
    ("terms.exchang", True, "terms.exchang: unknown term (did you mean 'exchange'?)"),
    ("terms.zeeman", {"H": ["25 nm", 0, 0]}, "terms.zeeman.H[0]: unit 'nm'"),
    ("terms.zeeman", {"B": [0, 0, 1]}, "terms.zeeman.B: unknown key"),
    ("terms.demag", {"method": "fmm"}, "terms.demag.method: must be one of"),
    ("initial.kind", "vortx", "did you mean 'vortex'"),
    ("initial.direction", [0, 0, 0], "initial.direction: must be a non-zero direction"),
    ("stages.0.kind", "go", "stages[0].kind: must be one of"),
    ("stages.0.duration", "-1 ns", "stages[0].duration: must be > 0 s"),
    ("stages.0.duration", "1 nm", "stages[0].duration: unit 'nm' is a length"),
    ("stages.0.save_every", "1e-20 s", "stages[0].save_every"),
    ("stages.0.rtol", 0.0, "stages[0].rtol: must be > 0"),
    ("stages", [], "stages: give at least one"),
    ("stages", {"kind": "run"}, "stages: must be a list"),
    ("output", {"fields": ["demag"]}, "output.fields[0]: unknown field 'demag'"),
    ("output", {"checkpoint_every": "10 K"}, "output.checkpoint_every: unit 'K'"),
    ("equation", "llx", "equation: must be one of 'llg', 'llb'"),
    ("bogus", 1, "bogus: unknown key"),
    ("stages", [{"kind": "minimize", "preconditioner": "jacobi"}],
     "stages[0].preconditioner: must be one of 'exchange', 'none'"),
    ("materials", {"core": {"Ms": 8e5}}, "materials.core: the geometry has no region 'core'"),
])
def test_bad_values_name_the_key(path, value, expected):
    assert expected in error(changed(path, value))


@pytest.mark.parametrize("path, expected", [
    ("materials.magnet.Ms", "materials.magnet.Ms: missing"),
    ("geometry.h", "geometry.h: missing"),
    ("geometry.builder", "geometry: give exactly one of"),
    ("stages.0.duration", "stages[0].duration: missing"),
    ("stages.0.kind", "stages[0].kind: missing"),
    ("terms", "terms: missing"),
    ("geometry", "geometry: missing"),
])
def test_missing_required_keys(path, expected):
    assert expected in error(changed(path, delete=True))


def test_geometry_file_and_llb_rules(tmp_path):
    data = changed("geometry", {"file": "nowhere.msh"})
    assert "geometry.file: mesh file" in error(data)
    data = changed("equation", "llb")
    assert "temperature: missing" in error(data)
    data["temperature"] = "300 K"
    assert "Tc" in error(data)  # the LLB material check names the missing parameter


def test_minimize_stage_defaults_to_the_exchange_preconditioner():
    cfg = validate(changed("stages", [{"kind": "minimize"}, {"kind": "minimize",
                                                            "preconditioner": "none"}]),
                   "/tmp/problem.toml")
    assert [stage["preconditioner"] for stage in cfg.stages] == ["exchange", "none"]


def test_stage_field_adds_a_zeeman_term():
    data = changed("terms", {"exchange": True})
    data["stages"][0]["field"] = ["0 mT", "10 mT", 0]
    cfg = validate(data, "/tmp/p.toml")
    assert cfg.terms["zeeman"]["H"] == (0.0, 0.0, 0.0)
    assert cfg.stages[0]["field"] == pytest.approx((0.0, 10e-3 / MU0, 0.0))


def test_random_directions_depend_only_on_position():
    """Same state for any partition: m(x) is a function of x alone; ⟨m⟩ ≈ 0 (isotropic)."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-50e-9, 50e-9, size=(3, 20000))
    m = config.random_directions(7)(x)
    perm = rng.permutation(x.shape[1])
    assert np.array_equal(config.random_directions(7)(x[:, perm]), m[:, perm])
    unit = m / np.linalg.norm(m, axis=0)
    assert np.all(np.abs(unit.mean(axis=1)) < 0.03)  # 3σ of the mean of 20000 is 0.012
    assert not np.allclose(config.random_directions(8)(x), m)
    assert np.all(np.isfinite(m))


def test_dumps_writes_nan_and_nested_tables():
    import tomllib
    data = {"a": {"b": [1.5, "x", True], "c": {"d": -2}}, "e": [{"f": 1}]}
    assert tomllib.loads(dumps(data)) == data
    assert math.isnan(tomllib.loads(dumps({"x": float("nan")}))["x"])
