"""Hostile input: broken config files and broken .msh files given to ``femag run``.

Every case must end with exit code 2, a one-line ``femag: error: ...`` naming the problem,
no traceback, and no output folder. The cases are generated deterministically (seeded):
deletions of required keys, wrong types, huge/negative/NaN/inf numbers, wrong and unknown
units, unknown keys, text-level damage (random character deletions, truncation, garbage),
and .msh files that are truncated, untagged, inverted, degenerate, surface-only, in nm,
with NaN nodes or missing nodes. docs/cli.md reports the counts.
"""
import copy
import os
import random
import subprocess
import sys

import pytest

from femag.cli import main
from femag.config import dumps

BASE = {
    "name": "fuzz",
    "geometry": {"builder": "box", "lx": "10 nm", "ly": "10 nm", "lz": "5 nm", "h": "5 nm"},
    "materials": {"magnet": {"Ms": "800 kA/m", "A": "13 pJ/m", "alpha": 0.5, "Ku": "0.1 MJ/m3",
                             "axis": [0, 0, 1]}},
    "terms": {"exchange": True, "anisotropy": True, "zeeman": {"H": ["25 mT", 0, 0]},
              "demag": {"method": "dense"}},
    "initial": {"kind": "vortex", "center": [0, 0, 0], "core_radius": "3 nm", "polarity": 1},
    "stages": [{"kind": "minimize", "tol": "1 A/m"},
               {"kind": "run", "duration": "10 ps", "save_every": "5 ps", "alpha": 0.1,
                "field": [0, "10 mT", 0], "dt_max": "1 ps"}],
    "output": {"checkpoint_every": "10 min", "fields": ["demag"], "save_every": "5 ps"},
}

#: dotted path -> (dimension-like class) of every leaf in BASE that a mutation may break
POSITIVE = ["geometry.lx", "geometry.ly", "geometry.lz", "geometry.h", "materials.magnet.Ms",
            "initial.core_radius", "stages.0.tol", "stages.1.duration", "stages.1.save_every",
            "stages.1.dt_max", "output.checkpoint_every", "output.save_every"]
NON_NEGATIVE = POSITIVE + ["materials.magnet.A", "materials.magnet.alpha", "stages.1.alpha"]
NUMBERS = NON_NEGATIVE + ["materials.magnet.Ku"]
VECTORS = ["materials.magnet.axis", "terms.zeeman.H", "initial.center", "stages.1.field"]
CHOICES = ["geometry.builder", "initial.kind", "stages.0.kind", "stages.1.kind",
           "terms.demag.method"]
REQUIRED = ["geometry", "materials", "terms", "stages", "geometry.builder", "geometry.lx",
            "geometry.h", "materials.magnet.Ms", "materials.magnet", "stages.0.kind",
            "stages.1.duration", "stages.1.kind", "terms.zeeman.H"]
TABLES = ["", "geometry", "materials.magnet", "terms", "initial", "stages.0", "stages.1",
          "output", "terms.demag"]
WRONG_UNIT = {"geometry.lx": ["10 kA/m", "10 ns", "10 furlong", "10 nmm"],
              "geometry.h": ["5 K", "5 mT"],
              "materials.magnet.Ms": ["5 nm", "800 J/m", "800 kA", "1.0 Tesla"],
              "materials.magnet.A": ["13 pJ/m3", "13 pJ", "13 mT"],
              "materials.magnet.Ku": ["0.1 MJ/m", "0.1 J/m2", "1e5 Oe"],
              "stages.1.duration": ["10 nm", "1 ps/s", "10 pss"],
              "stages.0.tol": ["1 K", "1 s"],
              "output.checkpoint_every": ["10 minutes", "10 K"],
              "materials.magnet.alpha": ["0.5 s", "0.5 %"]}


def _get(data, path):
    node = data
    for k in path.split(".") if path else []:
        node = node[int(k)] if isinstance(node, list) else node[k]
    return node


def _set(data, path, value=None, delete=False):
    *parent, last = path.split(".")
    node = _get(data, ".".join(parent))
    key = int(last) if isinstance(node, list) else last
    if delete:
        del node[key]
    else:
        node[key] = value
    return data


def config_cases(seed=2024):
    """[(label, TOML text)] of broken configs, deterministic for a given seed."""
    rng = random.Random(seed)
    cases = []

    def mutate(label, path, value=None, delete=False):
        cases.append((label, dumps(_set(copy.deepcopy(BASE), path, value, delete))))

    for path in REQUIRED:
        mutate(f"delete {path}", path, delete=True)
    wrong_scalar = ["abc", True, [1, 2, 3], {"x": 1}, "", "1e5 1e5"]
    for path in NUMBERS:
        for value in rng.sample(wrong_scalar, 3):
            mutate(f"wrong type {path}={value!r}", path, value)
        for value in (1e300, -1e300, float("nan"), float("inf"), float("-inf"), "nan nm"):
            if value == -1e300 and path == "materials.magnet.Ku":
                continue  # a huge negative Ku is caught by the bound below
            mutate(f"number {path}={value!r}", path, value)
    for path in NON_NEGATIVE:
        mutate(f"negative {path}", path, -rng.uniform(0.1, 10.0))
    for path in POSITIVE:
        mutate(f"zero {path}", path, 0)
    for path in VECTORS:
        for value in ([1, 2], "1 0 0", 5, [[1, 0, 0]], [0, "x", 0], [float("nan"), 0, 0],
                      [1e300, 0, 0] if path in ("terms.zeeman.H", "initial.center",
                                                "stages.1.field") else [0, 0, 0]):
            mutate(f"vector {path}={value!r}", path, value)
    for path in CHOICES:
        for value in ("nonsense", 5, "", "BOX"):
            mutate(f"choice {path}={value!r}", path, value)
    for path, values in WRONG_UNIT.items():
        for value in values:
            mutate(f"unit {path}={value!r}", path, value)
    names = ["Mss", "lx2", "foo", "stage", "output_folder", "alhpa", "Demag", "durations"]
    for table in TABLES:
        for name in rng.sample(names, 2):
            mutate(f"unknown key {table}.{name}", f"{table}.{name}".lstrip("."), 1)
    mutate("unknown term", "terms.magnetoelastic", True)
    mutate("wrong region", "materials.core", {"Ms": 8e5})
    mutate("stages empty", "stages", [])
    mutate("stages a table", "stages", {"kind": "run"})
    mutate("all terms off", "terms", {"exchange": False})
    mutate("unknown output field", "output.fields", ["H_dmi"])
    mutate("too many saves", "stages.1.save_every", "1e-22 s")
    mutate("mesh too fine", "geometry.h", "1e-3 nm")
    mutate("llb without Tc", "equation", "llb")
    _set_llb = copy.deepcopy(BASE)
    _set_llb.update(equation="llb", temperature="300 K")
    _set_llb["materials"]["magnet"].update(Tc="650 K", llb_lambda=0.05)
    _set_llb["stages"][0] = {"kind": "relax"}
    cases.append(("relax stage under llb", dumps(_set_llb)))
    mutate("file and builder", "geometry.file", "x.msh")
    mutate("missing initial folder", "initial", {"kind": "file", "folder": "nowhere"})
    # text-level damage
    good = dumps(BASE)
    cases += [("empty file", ""), ("garbage", "#!/bin/sh\nrm -rf / ]]] [[[ = = ="),
              ("binary", "\x00\x01\x02\xfe"), ("truncated", good[: len(good) // 2]),
              ("json", '{"geometry": {"builder": "box"}}'), ("only comment", "# nothing\n")]
    for i in range(40):  # random deletions of characters inside values (not just spaces)
        text = list(good)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(text))
            del text[pos]
        cases.append((f"deleted characters #{i}", "".join(text)))
    return cases


def _still_valid(text, path):
    """True if a text mutation left a config that validates (then it is not a broken case)."""
    from femag.config import ConfigError, validate
    import tomllib
    try:
        validate(tomllib.loads(text), path)
        return True
    except (ConfigError, tomllib.TOMLDecodeError, Exception):
        return False


def test_broken_configs_are_rejected_cleanly(comm, mpi_tmp_path, capsys):
    cases = config_cases()
    tried = rejected = 0
    for i, (label, text) in enumerate(cases):
        path = os.path.join(mpi_tmp_path, f"case{i}.toml")
        out = os.path.join(mpi_tmp_path, f"case{i}.out")
        if comm.rank == 0:
            with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(text)
        comm.barrier()
        if label.startswith("deleted characters") and _still_valid(text, path):
            continue  # e.g. a deleted digit: a different but valid problem
        tried += 1
        code = main(["run", path, "--out", out])
        captured = capsys.readouterr()
        assert code == 2, f"{label}: exit {code}"
        assert not os.path.exists(out), f"{label}: output folder created"
        if comm.rank == 0:
            lines = captured.err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("femag: error: "), \
                f"{label}: {captured.err!r}"
            assert "Traceback" not in captured.err, label
            assert len(lines[0]) > len("femag: error: ") + 10, label
        rejected += 1
    assert tried >= 200 and rejected == tried
    if comm.rank == 0:
        print(f"\nfuzz: {len(cases)} config cases generated, {tried} broken, {rejected} rejected")


# --- broken .msh files --------------------------------------------------------------------------
def msh_cases(good):
    """[(label, text)] of broken Gmsh 2.2 files derived from a valid one."""
    lines = good.split("\n")
    i_el, j_el = lines.index("$Elements"), lines.index("$EndElements")
    i_no, j_no = lines.index("$Nodes"), lines.index("$EndNodes")
    els = lines[i_el + 2: j_el]

    def with_elements(new, text=None):
        src = (text or good).split("\n")
        a, b = src.index("$Elements"), src.index("$EndElements")
        return "\n".join(src[: a + 1] + [str(len(new))] + new + src[b:])

    def fields(e, **changes):
        p = e.split()
        for k, v in changes.items():
            p[int(k[1:])] = v
        return " ".join(p)

    def swap(e):
        p = e.split()
        p[5], p[6] = p[6], p[5]
        return " ".join(p)

    def nodes(transform):
        return "\n".join(lines[: i_no + 2] + [transform(x) for x in lines[i_no + 2: j_no]]
                         + lines[j_no:])

    names = '$PhysicalNames\n1\n3 1 "magnet"\n$EndPhysicalNames\n'
    first = els[0].split()
    coplanar = nodes(lambda x: x if x.split()[0] != first[8] else " ".join(
        [first[8]] + _midpoint(lines, i_no, first[5:8])))
    return [
        ("truncated", good[: len(good) // 2]),
        ("truncated in nodes", good[: good.index("$EndNodes") - 40]),
        ("empty", ""),
        ("binary garbage", "\x00\x01\x02binary\xff"),
        ("not a mesh", "[geometry]\nbuilder = 'box'\n"),
        ("no volume tags", with_elements([fields(e, i3="0", i4="0") for e in els]).replace(names, "")),
        ("one inverted tetrahedron", with_elements([swap(els[0])] + els[1:])),
        ("all tetrahedra inverted", with_elements([swap(e) for e in els])),
        ("zero volume (repeated node)", with_elements([fields(els[0], i8=first[7])] + els[1:])),
        ("zero volume (coplanar nodes)", coplanar),
        ("surface only", with_elements([f"{i + 1} 2 2 1 1 " + " ".join(e.split()[5:8])
                                        for i, e in enumerate(els)]).replace('3 1 "magnet"',
                                                                             '2 1 "magnet"')),
        ("nodes in nm without unit_length", nodes(lambda x: " ".join(
            [x.split()[0]] + [repr(float(v) * 1e9) for v in x.split()[1:]]))),
        ("NaN node", nodes(lambda x: x if x.split()[0] != "1" else "1 nan 0 0")),
        ("element with a missing node", with_elements([fields(els[0], i5="999999")] + els[1:])),
    ]


def _midpoint(lines, i_no, tags):
    """Coordinates of the centroid of three nodes (a fourth node there: zero volume)."""
    pos = {}
    for x in lines[i_no + 2:]:
        if x.startswith("$"):
            break
        p = x.split()
        pos[p[0]] = [float(v) for v in p[1:]]
    return [repr(sum(pos[t][k] for t in tags) / 3) for k in range(3)]


def test_broken_mesh_files_are_rejected(comm, mpi_tmp_path, capsys):
    good_path = os.path.join(mpi_tmp_path, "good.msh")
    assert main(["mesh", "box", "--lx", "10 nm", "--ly", "10 nm", "--lz", "5 nm", "--h", "5 nm",
                 "-q", "-o", good_path]) == 0
    good = open(good_path).read()
    config = copy.deepcopy(BASE)
    config["stages"] = [{"kind": "minimize"}]
    cases = msh_cases(good)
    assert len(cases) >= 8
    for i, (label, text) in enumerate(cases):
        msh = os.path.join(mpi_tmp_path, f"bad{i}.msh")
        path = os.path.join(mpi_tmp_path, f"mesh{i}.toml")
        out = os.path.join(mpi_tmp_path, f"mesh{i}.out")
        config["geometry"] = {"file": f"bad{i}.msh"}
        if comm.rank == 0:
            with open(msh, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(text)
            with open(path, "w") as f:
                f.write(dumps(config))
        comm.barrier()
        code = main(["run", path, "--out", out])
        captured = capsys.readouterr()
        assert code == 2, f"{label}: exit {code}"
        assert not os.path.exists(out), label
        if comm.rank == 0:
            lines = captured.err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("femag: error: "), \
                f"{label}: {captured.err!r}"
            assert "Traceback" not in captured.err, label
    # the unbroken file runs (so the rejections above are about the damage)
    config["geometry"] = {"file": "good.msh"}
    path = write(comm, os.path.join(mpi_tmp_path, "good.toml"), dumps(config))
    assert main(["run", path, "-q", "--out", os.path.join(mpi_tmp_path, "good.out")]) == 0


def write(comm, path, text):
    if comm.rank == 0:
        with open(path, "w") as f:
            f.write(text)
    comm.barrier()
    return path


@pytest.mark.skip_in_parallel
def test_broken_input_through_a_real_process(tmp_path):
    """A handful of cases through `python -m femag run`: exit 2, one line, no traceback."""
    cases = [c for c in config_cases() if not c[0].startswith("deleted")]
    picked = [cases[0], cases[20], cases[60], cases[-1],
              ("nan Ms", dumps(_set(copy.deepcopy(BASE), "materials.magnet.Ms", float("nan"))))]
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for i, (label, text) in enumerate(picked):
        path = tmp_path / f"p{i}.toml"
        path.write_text(text, errors="surrogateescape")
        proc = subprocess.run([sys.executable, "-m", "femag", "run", str(path)], env=env,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, (label, proc.stderr)
        assert proc.stderr.startswith("femag: error: ") and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert not (tmp_path / f"p{i}.out").exists()
