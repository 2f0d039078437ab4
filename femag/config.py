"""Config files for ``femag run``: a TOML file validated against a schema, then built into
femag objects (mesh, Simulation, initial state, stages).

The schema is plain data: every key has a kind (number, vector, string, ...), a
dimension (see :mod:`femag.units`; a bare number is SI), whether it is required, a
default and a range. :func:`load` reads and validates a whole file before any work and
raises :class:`ConfigError` with the dotted key path, e.g.
``materials.permalloy.Ms: must be > 0 A/m, got -800000.0``. docs/cli.md lists every key.
"""
from __future__ import annotations

import difflib
import inspect
import math
import os
from dataclasses import dataclass, field

from . import units
from .units import UnitError, shorten

MAX_LENGTH = 1e-3          # m; a magnet larger than this is a unit mistake (femag.mesh)
MAX_TETRAHEDRA = 5e6       # refuse meshes that could not run on one machine
MAX_SAVES = 100000         # rows per run stage
MAX_FIELD = 1e8            # A/m (~126 T)


class ConfigError(ValueError):
    """A config file that femag cannot run: the message starts with the dotted key path."""


@dataclass
class Key:
    """One config key: kind, dimension (units.DIMENSIONS), bounds in SI, default, doc."""

    kind: str = "number"      # number int bool string choice vector vectors strings numbers axis
    dim: str = "dimensionless"
    required: bool = False
    default: object = None
    lo: float | None = None   # bounds (SI); lo_open: strict lower bound
    hi: float | None = None
    lo_open: bool = False
    choices: tuple = ()
    doc: str = ""


def _fail(path, message):
    raise ConfigError(f"{path}: {message}" if path else message)


def _si(dim):
    return units.DIMENSIONS[dim][0]


def _bounds(path, value, key):
    unit = f" {_si(key.dim)}" if _si(key.dim) else ""
    if key.lo is not None and (value <= key.lo if key.lo_open else value < key.lo):
        _fail(path, f"must be {'>' if key.lo_open else '≥'} {key.lo:g}{unit}, got {value:g}")
    if key.hi is not None and value > key.hi:
        _fail(path, f"must be ≤ {key.hi:g}{unit}, got {value:g}")


def _value(path, raw, key):
    """Convert one raw TOML value according to `key` (SI floats, tuples for vectors)."""
    try:
        if key.kind in ("table", "list"):
            expected = dict if key.kind == "table" else list
            if not isinstance(raw, expected):
                _fail(path, f"must be a {'table (section)' if key.kind == 'table' else 'list'}"
                      f", got {type(raw).__name__} {shorten(raw)}")
            return raw
        if key.kind == "number":
            value = units.parse(raw, key.dim, path)
            _bounds(path, value, key)
            return value
        if key.kind == "int":
            if isinstance(raw, bool) or not isinstance(raw, int):
                _fail(path, f"must be an integer, got {shorten(raw)}")
            _bounds(path, raw, key)
            return raw
        if key.kind == "bool":
            if not isinstance(raw, bool):
                _fail(path, f"must be true or false, got {shorten(raw)}")
            return raw
        if key.kind in ("string", "choice"):
            if not isinstance(raw, str) or not raw.strip():
                _fail(path, f"must be a non-empty string, got {shorten(raw)}")
            if key.kind == "choice" and raw not in key.choices:
                _fail(path, f"must be one of {', '.join(map(repr, key.choices))}, got {shorten(raw)}"
                      + _suggest(raw, key.choices))
            return raw
        if key.kind == "vector":
            vec = units.parse_vector(raw, key.dim, path)
            norm = math.hypot(*vec)  # no overflow for huge components
            if key.dim == "dimensionless" and norm == 0.0:
                _fail(path, f"must be a non-zero direction, got {shorten(raw)}")
            if key.hi is not None and norm > key.hi:
                _fail(path, f"magnitude must be ≤ {key.hi:g} {_si(key.dim)}, got {norm:g}")
            return vec
        if key.kind == "axis":
            if isinstance(raw, str):
                if raw not in ("x", "y", "z"):
                    _fail(path, f"must be 'x', 'y', 'z' or a 3-vector, got {shorten(raw)}")
                return raw
            return _value(path, raw, Key("vector"))
        if key.kind in ("vectors", "strings", "numbers"):
            if not isinstance(raw, list) or not raw:
                _fail(path, f"must be a non-empty list, got {shorten(raw)}")
            if key.kind == "vectors" and len(raw) != 2:
                _fail(path, f"must be a list of two 3-vectors, got {shorten(raw)}")
            item = Key({"vectors": "vector", "strings": "string", "numbers": "number"}[key.kind],
                       key.dim, lo=key.lo, hi=key.hi, lo_open=key.lo_open)
            return tuple(_value(f"{path}[{i}]", v, item) for i, v in enumerate(raw))
    except UnitError as err:
        _fail("", str(err))
    raise AssertionError(key.kind)


def _suggest(name, known):
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_table(path, raw, spec, extra_ok=()):
    """Validate the dict `raw` against `spec` {name: Key}: unknown keys, missing required
    keys, then each value. Returns {name: SI value} with defaults filled in."""
    if not isinstance(raw, dict):
        _fail(path, f"must be a table (section), got {type(raw).__name__} {shorten(raw)}")
    for name in raw:
        if name not in spec and name not in extra_ok:
            known = list(spec) + list(extra_ok)
            _fail(f"{path}.{name}" if path else name,
                  f"unknown key{_suggest(name, known)}; known keys here: {', '.join(known)}")
    out = {}
    for name, key in spec.items():
        where = f"{path}.{name}" if path else name
        if name in raw:
            out[name] = _value(where, raw[name], key)
        elif key.required:
            _fail(where, f"missing (required{': ' + key.doc if key.doc else ''})")
        else:
            out[name] = key.default
    return out


# --- schema ---------------------------------------------------------------------------------
LENGTH = dict(dim="length", lo=0.0, lo_open=True, hi=MAX_LENGTH)
VECTOR_LENGTH = Key("vector", "length", default=(0.0, 0.0, 0.0), hi=MAX_LENGTH)
DIRECTION = Key("vector")

TOP = {
    "name": Key("string", default="femag", doc="run name (files, ParaView)"),
    "equation": Key("choice", choices=("llg", "llb"), default="llg"),
    "temperature": Key(dim="temperature", lo=0.0, hi=1e5, doc="K, LLB bath temperature"),
    "geometry": Key("table", required=True, doc="a [geometry] section"),
    "materials": Key("table", required=True, doc="[materials.<region>] sections"),
    "terms": Key("table", required=True, doc="a [terms] section"),
    "initial": Key("table", default={"kind": "uniform", "direction": [1, 0, 0]}),
    "stages": Key("list", required=True, doc="[[stages]] sections"),
    "output": Key("table", default={}),
}

MATERIAL = {
    "Ms": Key(dim="magnetisation", required=True, lo=0.0, lo_open=True, hi=1e7,
              doc="saturation magnetisation (A/m)"),
    "A": Key(dim="exchange", default=0.0, lo=0.0, hi=1e-9),
    "alpha": Key(default=0.5, lo=0.0, hi=100.0),
    "gamma": Key(dim="gamma", default=2.211e5, lo=0.5e5, hi=1e6),
    "Ku": Key(dim="energy_density", default=0.0, lo=-1e8, hi=1e8),
    "axis": Key("vector", default=(0.0, 0.0, 1.0)),
    "Kc1": Key(dim="energy_density", default=0.0, lo=-1e8, hi=1e8),
    "axes": Key("vectors", default=((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))),
    "D_int": Key(dim="dmi", default=0.0, lo=-0.1, hi=0.1),
    "D_bulk": Key(dim="dmi", default=0.0, lo=-0.1, hi=0.1),
    "Tc": Key(dim="temperature", lo=0.0, lo_open=True, hi=1e4),
    "llb_lambda": Key(lo=0.0, lo_open=True, hi=100.0),
    "spin": Key(lo=0.0, lo_open=True, hi=100.0),
    "mu_atom": Key(lo=0.0, lo_open=True, hi=100.0, doc="Bohr magnetons"),
    "anisotropy_model": Key("choice", choices=("chi-perp", "callen-callen"), default="chi-perp"),
}

#: term name (= femag term .name) -> (class name in femag, {argument: Key})
TERMS = {
    "exchange": ("Exchange", {"A": Key(dim="exchange", lo=0.0, hi=1e-9)}),
    "demag": ("Demag", {"method": Key("choice", choices=("auto", "dense", "hmatrix"),
                                      default="auto"),
                        "threshold": Key("int", default=8000, lo=1),
                        "pc": Key("choice", choices=("auto", "hypre", "gamg"), default="auto"),
                        "ksp_rtol": Key(default=1e-10, lo=0.0, lo_open=True, hi=0.1)}),
    "zeeman": ("Zeeman", {"H": Key("vector", "field", required=True, hi=MAX_FIELD)}),
    "anisotropy": ("UniaxialAnisotropy", {"Ku": Key(dim="energy_density", lo=-1e8, hi=1e8),
                                          "axis": DIRECTION}),
    "cubic_anisotropy": ("CubicAnisotropy", {"Kc1": Key(dim="energy_density", lo=-1e8, hi=1e8),
                                             "axes": Key("vectors")}),
    "dmi_interfacial": ("InterfacialDMI", {"D": Key(dim="dmi", lo=-0.1, hi=0.1)}),
    "dmi_bulk": ("BulkDMI", {"D": Key(dim="dmi", lo=-0.1, hi=0.1)}),
}

TOLERANCE = dict(dim="field", lo=0.0, lo_open=True, hi=1e6)
STAGE_COMMON = {
    "kind": Key("choice", required=True, choices=("minimize", "relax", "run")),
    "name": Key("string"),
    "field": Key("vector", "field", hi=MAX_FIELD, doc="applied field H for this stage"),
    "temperature": Key(dim="temperature", lo=0.0, hi=1e5),
}
STAGES = {
    "minimize": {"tol": Key(default=1.0, **TOLERANCE),
                 "max_iterations": Key("int", default=20000, lo=1, hi=10 ** 7),
                 "preconditioner": Key("choice", choices=("exchange", "none"), default="exchange",
                                       doc="exchange: Sobolev-preconditioned descent; none: plain")},
    "relax": {"tol": Key(default=1.0, **TOLERANCE),
              "alpha": Key(lo=0.0, lo_open=True, hi=100.0),
              "max_time": Key(dim="time", default=1e-7, lo=0.0, lo_open=True, hi=1e-3),
              "max_steps": Key("int", default=200000, lo=1, hi=10 ** 8),
              "integrator": Key("choice", choices=("rk23", "rk45", "tangent-plane"),
                                default="rk23")},
    "run": {"duration": Key(dim="time", required=True, lo=0.0, lo_open=True, hi=1e-3),
            "save_every": Key(dim="time", lo=0.0, lo_open=True, hi=1e-3),
            "alpha": Key(lo=0.0, hi=100.0),
            "integrator": Key("choice", choices=("rk45", "rk23", "tangent-plane"),
                              default="rk45"),
            "rtol": Key(lo=0.0, lo_open=True, hi=0.1),
            "atol": Key(lo=0.0, lo_open=True, hi=0.1),
            "dt_max": Key(dim="time", lo=0.0, lo_open=True, hi=1e-3)},
}

OUTPUT = {
    "folder": Key("string", doc="run folder, relative to the config file"),
    "save_every": Key(dim="time", lo=0.0, lo_open=True, hi=1e-3),
    "fields": Key("strings", default=()),
    "checkpoint_every": Key(dim="time", default=600.0, lo=0.0, lo_open=True, hi=1e6),
    "checkpoint_keep": Key("int", default=3, lo=1, hi=100),
}

GEOMETRY_FILE = {"file": Key("string", required=True),
                 "unit_length": Key(dim="length", default=1.0, lo=0.0, lo_open=True, hi=1.0,
                                    doc="metres per file length unit")}

#: dimension of builder / shape / initial-state arguments, by argument name
ARGUMENTS = {
    **{n: Key(**LENGTH) for n in ("lx", "ly", "lz", "thickness", "radius", "length", "width",
                                  "outer_radius", "inner_radius", "a", "b", "c", "h",
                                  "separation", "core_radius", "wall_width")},
    "center": VECTOR_LENGTH,
    "axis": Key("axis"),
    "angle": Key(dim="angle", lo=0.0, lo_open=True, hi=2 * math.pi),
    "polar_angle": Key(dim="angle", lo=0.0, lo_open=True, hi=math.pi),
    "name": Key("string"), "names": Key("strings"),
    "thicknesses": Key("numbers", **LENGTH),
    "position": Key(dim="length", lo=-MAX_LENGTH, hi=MAX_LENGTH),
    **{n: DIRECTION for n in ("normal", "m_left", "m_center", "easy_axis", "transverse",
                              "film_normal", "direction")},
    **{n: Key("int", lo=-1, hi=1) for n in ("chirality", "circulation", "polarity")},
    "head_to_head": Key("bool"),
}

STATES = ("uniform", "random", "file", "vortex", "onion", "tanh_wall", "bloch_wall",
          "neel_wall", "transverse_wall", "tube_vortex_wall", "strip_vortex_wall")
BUILDERS = ("box", "film", "disk", "cylinder", "nanowire", "nanotube", "ring", "curved_strip",
            "ellipsoid", "sphere", "spherical_shell", "two_spheres", "layers", "bodies")


def signature_spec(func, skip=("comm",)):
    """{argument: Key} for a function's arguments (required where it has no default)."""
    spec = {}
    for name, par in inspect.signature(func).parameters.items():
        if name in skip:
            continue
        base = ARGUMENTS.get(name, Key("string"))
        spec[name] = Key(**{**base.__dict__, "required": par.default is inspect._empty,
                            "default": None})
    return spec


# --- sections ---------------------------------------------------------------------------------
def _geometry(raw, base_dir):
    if not isinstance(raw, dict):
        _fail("geometry", f"must be a table (section), got {shorten(raw)}")
    if ("builder" in raw) == ("file" in raw):
        _fail("geometry", "give exactly one of builder = \"box\" (with its arguments) or "
              "file = \"mesh.msh\"")
    if "file" in raw:
        geo = check_table("geometry", raw, GEOMETRY_FILE)
        path = geo["file"] if os.path.isabs(geo["file"]) else os.path.join(base_dir, geo["file"])
        if not os.path.isfile(path):
            _fail("geometry.file", f"mesh file {path!r} does not exist")
        return {"file": path, "unit_length": geo["unit_length"]}
    builder = _value("geometry.builder", raw["builder"], Key("choice", choices=BUILDERS))
    from . import geometries
    func = getattr(geometries, builder)
    spec = signature_spec(func)
    if builder == "bodies":
        spec["parts"] = Key("parts", required=True)
        args = check_table("geometry", {k: v for k, v in raw.items() if k != "parts"},
                           {k: v for k, v in spec.items() if k != "parts"}, ("builder",))
        args["parts"] = _parts(raw.get("parts"))
    else:
        args = check_table("geometry", raw, spec, extra_ok=("builder",))
    args = {k: v for k, v in args.items() if v is not None}
    _estimate_size(builder, args)
    return {"builder": builder, "args": args}


def _tables(path, raw, empty_message):
    """(dotted path, table) for each entry of a non-empty list of tables."""
    if not isinstance(raw, list) or not raw:
        _fail(path, empty_message)
    for i, table in enumerate(raw):
        if not isinstance(table, dict):
            _fail(f"{path}[{i}]", f"must be a table, got {shorten(table)}")
        yield f"{path}[{i}]", table


def _parts(raw):
    from .geometries import SHAPES
    parts = []
    for where, part in _tables("geometry.parts", raw, "must be a non-empty list of tables "
                               "{name = ..., shape = ..., ...}"):
        shape = _value(f"{where}.shape", part.get("shape"), Key("choice", choices=tuple(SHAPES)))
        name = _value(f"{where}.name", part.get("name"), Key("string"))
        spec = signature_spec(SHAPES[shape])
        args = check_table(where, {k: v for k, v in part.items() if k not in ("shape", "name")},
                           spec)
        parts.append((name, shape, {k: v for k, v in args.items() if v is not None}))
    return parts


def _estimate_size(builder, args):
    """Refuse an element size that would give an impossibly large mesh (rough upper bound:
    bounding box / h³ × 6 tetrahedra per cube)."""
    h = args["h"]
    sizes = []
    for name, value in args.items():
        if name in ("h", "core_radius", "wall_width", "inner_radius") or not isinstance(value, float):
            continue
        sizes.append(2 * value if "radius" in name or name in ("a", "b", "c") else value)
    if "thicknesses" in args:
        sizes.append(sum(args["thicknesses"]))
    for _, _, part in args.get("parts", ()):
        sizes += [2 * v for v in part.values() if isinstance(v, float)]
    sizes = sorted(sizes, reverse=True)[:3] or [h]
    sizes += [sizes[0]] * (3 - len(sizes))
    n = 6.0 * math.prod(max(s, h) / h for s in sizes)
    if n > MAX_TETRAHEDRA:
        _fail("geometry.h", f"element size {h:g} m would give about {n:.2g} tetrahedra "
              f"(limit {MAX_TETRAHEDRA:.0e}); use a larger h")


def _materials(raw, equation):
    from .material import Material, MaterialError
    if not isinstance(raw, dict) or not raw:
        _fail("materials", "give at least one [materials.<region>] section (region = a "
              "physical volume name of the mesh, e.g. 'magnet')")
    result = {}
    for region, table in raw.items():
        where = f"materials.{region}"
        values = check_table(where, table, MATERIAL)
        values = {k: v for k, v in values.items() if v is not None}
        try:
            mat = Material(**values)
            if equation == "llb":
                from .mean_field import validate_llb_material
                validate_llb_material(mat)
        except (MaterialError, ValueError) as err:
            _fail(where, str(err))
        result[region] = mat
    return result


def _match_regions(geometry, materials):
    """Builders know their region names before meshing: check them against [materials]."""
    if "builder" not in geometry:
        return  # a .msh file: checked when it is loaded (config.build_simulation)
    args = geometry["args"]
    if "parts" in args:
        regions = [name for name, _, _ in args["parts"]]
    else:
        regions = list(args.get("names") or [args.get("name") or "magnet"])
    for region in materials:
        if region not in regions:
            _fail(f"materials.{region}", f"the geometry has no region {region!r}"
                  f"{_suggest(region, regions)}; its regions: {', '.join(dict.fromkeys(regions))}")
    missing = [r for r in dict.fromkeys(regions) if r not in materials]
    if missing:
        _fail("materials", f"no material for region {missing[0]!r}: add [materials.{missing[0]}]")


def _terms(raw):
    if not isinstance(raw, dict) or not raw:
        _fail("terms", "give at least one energy term, e.g. exchange = true")
    terms = {}
    for name, value in raw.items():
        where = f"terms.{name}"
        if name not in TERMS:
            _fail(where, f"unknown term{_suggest(name, TERMS)}; known: {', '.join(TERMS)}")
        if value is False:
            continue
        if value is True:
            value = {}
        args = check_table(where, value, TERMS[name][1])
        terms[name] = {k: v for k, v in args.items() if v is not None}
    if not terms:
        _fail("terms", "every term is switched off; give at least one")
    return terms


def _initial(raw, base_dir):
    from . import states
    if not isinstance(raw, dict):
        _fail("initial", f"must be a table (section), got {shorten(raw)}")
    kind = _value("initial.kind", raw.get("kind", "uniform"), Key("choice", choices=STATES))
    if kind == "random":
        spec = {"seed": Key("int", default=0, lo=0, hi=2 ** 31)}
    elif kind == "file":
        spec = {"folder": Key("string", required=True), "step": Key("int", default=-1)}
    else:
        spec = signature_spec(getattr(states, kind))
    args = check_table("initial", raw, spec, extra_ok=("kind",))
    args = {k: v for k, v in args.items() if v is not None}
    if kind == "file":
        folder = args["folder"]
        args["folder"] = folder if os.path.isabs(folder) else os.path.join(base_dir, folder)
        if not os.path.isfile(os.path.join(args["folder"], "fields.xdmf")):
            _fail("initial.folder", f"{args['folder']!r} is not a femag output folder "
                  f"(no fields.xdmf)")
    for name in ("chirality", "circulation", "polarity"):
        if args.get(name) == 0:
            _fail(f"initial.{name}", "must be +1 or -1, got 0")
    return {"kind": kind, "args": args}


def _stages(raw, default_save):
    stages = []
    for i, (where, table) in enumerate(_tables("stages", raw, "give at least one [[stages]] "
                                               "section (kind = minimize, relax or run)")):
        if "kind" not in table:
            _fail(f"{where}.kind", "missing (minimize, relax or run)")
        kind = _value(f"{where}.kind", table["kind"], STAGE_COMMON["kind"])
        stage = check_table(where, table, {**STAGE_COMMON, **STAGES[kind]})
        stage["name"] = stage["name"] or f"{i}-{kind}"
        if kind == "run":
            save = stage["save_every"] or default_save or stage["duration"]
            if stage["duration"] / save > MAX_SAVES:
                _fail(f"{where}.save_every", f"{save:g} s gives {stage['duration'] / save:.3g} "
                      f"saves over {stage['duration']:g} s (limit {MAX_SAVES})")
            stage["save_every"] = save
        stages.append(stage)
    return stages


@dataclass
class Config:
    """A validated config: SI values, absolute paths. See docs/cli.md for the keys."""

    path: str
    name: str
    equation: str
    temperature: float | None
    geometry: dict
    materials: dict
    terms: dict
    initial: dict
    stages: list
    output: dict = field(default_factory=dict)


def read_toml(path):
    """Parse a TOML file; unreadable files and syntax errors become ConfigError."""
    import tomllib
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        _fail("", f"config file {path!r} does not exist")
    except IsADirectoryError:
        _fail("", f"config file {path!r} is a folder")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        _fail("", f"{path}: not a valid TOML file: {err}")
    except OSError as err:
        _fail("", f"cannot read config file {path!r}: {err.strerror}")


def dumps(data):
    """A dict as TOML text, one top-level key per line with inline tables (for tests and
    generated configs; what tomllib reads back is `data`)."""
    import json

    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float) and not math.isfinite(v):
            return "nan" if v != v else ("inf" if v > 0 else "-inf")
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(str(k))} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(f"cannot write {type(v).__name__} as TOML")
    return "".join(f"{json.dumps(str(k))} = {value(v)}\n" for k, v in data.items())


def validate(data, path="config.toml"):
    """Validate a parsed config dict (as from TOML); returns a :class:`Config`."""
    top = check_table("", data, TOP)
    base_dir = os.path.dirname(os.path.abspath(path))
    equation = top["equation"]
    if equation == "llb" and top["temperature"] is None:
        _fail("temperature", "missing (required for equation = \"llb\", in K)")
    geometry = _geometry(top["geometry"], base_dir)
    materials = _materials(top["materials"], equation)
    _match_regions(geometry, materials)
    terms = _terms(top["terms"])
    initial = _initial(top["initial"], base_dir)
    output = check_table("output", top["output"], OUTPUT)
    stages = _stages(top["stages"], output["save_every"])
    if any(s["field"] is not None for s in stages) and "zeeman" not in terms:
        terms["zeeman"] = {"H": (0.0, 0.0, 0.0)}  # stage fields need the term from the start
    known = ["H_eff", "effective"] + list(terms) + [f"H_{t}" for t in terms]
    for i, name in enumerate(output["fields"]):
        if name not in known:
            _fail(f"output.fields[{i}]", f"unknown field {name!r}{_suggest(name, known)}; "
                  f"known: {', '.join(known)}")
    if equation == "llb":
        for i, s in enumerate(stages):
            if s["kind"] == "relax":
                _fail(f"stages[{i}].kind", "relax is for LLG; use run (or minimize) with LLB")
    if equation == "llg" and any(s["temperature"] is not None for s in stages):
        _fail("stages", "temperature in a stage needs equation = \"llb\"")
    folder = output["folder"] or os.path.splitext(os.path.basename(path))[0] + ".out"
    output["folder"] = folder if os.path.isabs(folder) else os.path.join(base_dir, folder)
    return Config(os.path.abspath(path), top["name"], equation, top["temperature"], geometry,
                  materials, terms, initial, stages, output)


def load(path):
    """Read and validate a config file (no MPI, no mesh): :class:`Config` or ConfigError."""
    return validate(read_toml(path), path)


# --- config -> femag objects (collective: every rank calls these) -------------------------------
def build_mesh(cfg, comm):
    """The mesh of `cfg` (a builder or a .msh file), distributed over `comm`. Prints the
    mesh summary on rank 0. Raises MeshError for a file femag cannot use."""
    from . import geometries
    from . import mesh as meshes
    geo = cfg.geometry
    if "file" in geo:
        return meshes.load(geo["file"], comm=comm, unit_length=geo["unit_length"])
    return getattr(geometries, geo["builder"])(comm=comm, **geo["args"])


def make_term(name, args):
    """A femag term from its config name and SI arguments."""
    import femag
    cls = getattr(femag, TERMS[name][0])
    return cls(**args)


def check_regions(cfg, mesh):
    """Every [materials.<region>] names a mesh region and every region has a material."""
    unknown = [r for r in cfg.materials if r not in mesh.regions]
    if unknown:
        _fail(f"materials.{unknown[0]}", f"the mesh has no region {unknown[0]!r}; its regions: "
              f"{', '.join(mesh.regions)}")
    missing = [r for r in mesh.regions if r not in cfg.materials]
    if missing:
        _fail("materials", f"no material for region(s) {', '.join(map(repr, missing))}: add "
              f"[materials.{missing[0]}]")


def build_simulation(cfg, mesh):
    """Simulation with the config's materials, terms and temperature (collective)."""
    from .simulation import Simulation
    check_regions(cfg, mesh)
    sim = Simulation(mesh, cfg.materials, equation=cfg.equation, name=cfg.name)
    sim.add(*(make_term(name, args) for name, args in cfg.terms.items()))
    if cfg.temperature is not None:
        sim.temperature = cfg.temperature
    return sim


def random_directions(seed):
    """m(x) of random directions that depend only on the node position (m) and `seed`, so
    that every partition gives the same state (a splitmix64 hash of the coordinates)."""
    import numpy as np

    def mix(z):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))

    def m(x):
        grid = np.round(np.asarray(x) / 1e-13).astype(np.int64).view(np.uint64)
        with np.errstate(over="ignore"):
            z = mix(grid[0] + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15))
            z = mix(z ^ grid[1])
            z = mix(z ^ grid[2])
            out = []
            for _ in range(6):  # six uniforms in (0, 1) -> three normals (Box-Muller)
                z = mix(z + np.uint64(0x9E3779B97F4A7C15))
                out.append(((z >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0 ** 53)
        u = np.array(out)
        return np.sqrt(-2 * np.log(u[0::2])) * np.cos(2 * np.pi * u[1::2])
    return m


def initial_state(cfg, sim):
    """Set sim.m from [initial] (collective); sim.t stays 0."""
    from . import states
    kind, args = cfg.initial["kind"], dict(cfg.initial["args"])
    if kind == "file":
        from .load import Run
        try:
            Run(args["folder"]).restore(sim, step=args["step"])
        except (ValueError, IndexError, KeyError, OSError) as err:
            _fail("initial.folder", f"cannot start from {args['folder']!r}: {err}")
        sim.t = 0.0
        return
    sim.m = random_directions(args["seed"]) if kind == "random" else \
        getattr(states, kind)(**args)


__all__ = ["ConfigError", "Config", "Key", "load", "validate", "read_toml", "check_table",
           "build_mesh", "build_simulation", "check_regions", "initial_state", "make_term", "TOP", "MATERIAL", "TERMS", "STAGES", "STAGE_COMMON", "OUTPUT", "ARGUMENTS"]
