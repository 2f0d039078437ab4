"""Quantities with units in config files: ``"5 nm"``, ``"25 mT"``, ``"800 kA/m"`` → SI floats.

A value is a bare number (taken as SI) or a string ``"<number> <unit>"``. Every config key
expects one *dimension* (a :data:`DIMENSIONS` key); its unit must be one of that
dimension's units, optionally with an SI prefix (f p n u/µ m c k M G) on the first symbol:

    length m, Å · time s, min, h · field/magnetisation A/m, T (→ A/m by 1/μ0), Oe
    exchange J/m · energy density J/m3, erg/cm3 · DMI J/m2 · temperature K · angle rad, deg

A tesla value for an A/m key is μ0 H (or μ0 Ms): ``"25 mT"`` → 25e-3/μ0 A/m. Vectors are
lists of three such values, e.g. ``["-24.6 mT", "4.3 mT", 0]``.
"""
from __future__ import annotations

import math
import re

MU0 = 4e-7 * math.pi  # T·m/A; equal to femag.material.MU0 (imported there without DOLFINx)

PREFIXES = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3, "c": 1e-2,
            "k": 1e3, "M": 1e6, "G": 1e9}

#: dimension -> (SI unit, description, {base unit: factor to SI}, prefixable bases)
DIMENSIONS = {
    "length": ("m", "a length", {"m": 1.0, "Å": 1e-10, "angstrom": 1e-10}, ("m",)),
    "time": ("s", "a time", {"s": 1.0, "min": 60.0, "h": 3600.0}, ("s",)),
    "field": ("A/m", "a field H", {"A/m": 1.0, "T": 1.0 / MU0, "Oe": 1e3 / (4 * math.pi)},
              ("A/m", "T", "Oe")),
    "magnetisation": ("A/m", "a magnetisation", {"A/m": 1.0, "T": 1.0 / MU0}, ("A/m", "T")),
    "exchange": ("J/m", "an exchange stiffness", {"J/m": 1.0}, ("J/m",)),
    "energy_density": ("J/m3", "an energy density", {"J/m3": 1.0, "erg/cm3": 0.1},
                       ("J/m3",)),
    "dmi": ("J/m2", "a DMI constant", {"J/m2": 1.0}, ("J/m2",)),
    "temperature": ("K", "a temperature", {"K": 1.0}, ()),
    "angle": ("rad", "an angle", {"rad": 1.0, "deg": math.pi / 180}, ()),
    "gamma": ("m/(A*s)", "a gyromagnetic ratio", {"m/(A*s)": 1.0, "m/(As)": 1.0}, ()),
    "dimensionless": ("", "a pure number", {}, ()),
}


def shorten(value, limit=60):
    """repr(value) cut to `limit` characters (a message stays one readable line)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class UnitError(ValueError):
    """A value whose number or unit cannot be read, or whose unit has the wrong dimension."""


def _table(dimension):
    """{unit spelling (normalised): factor to SI} for one dimension."""
    _, _, bases, prefixable = DIMENSIONS[dimension]
    table = dict(bases)
    for base in prefixable:
        for p, f in PREFIXES.items():
            table.setdefault(p + base, f * bases[base])
    return table


_TABLES = {d: _table(d) for d in DIMENSIONS}


def _normalise(unit):
    """Spelling variants to one form: µ/μ → u, ³ → 3, ^ and ** and spaces dropped, · → *."""
    u = unit.strip().replace("µ", "u").replace("μ", "u").replace("³", "3").replace("²", "2")
    u = u.replace("**", "").replace("^", "").replace("·", "*")
    u = re.sub(r"\s+", "", u)
    return u.replace("m/(s*A)", "m/(A*s)")


def accepted(dimension):
    """Human list of the base units of `dimension` (prefixes allowed where marked)."""
    si, _, bases, prefixable = DIMENSIONS[dimension]
    if not bases:
        return "a bare number"
    return ", ".join(("[prefix]" if b in prefixable else "") + b for b in bases)


def dimension_of(unit):
    """The dimension a unit spelling belongs to (first match), or None."""
    u = _normalise(unit)
    for name, table in _TABLES.items():
        if u in table:
            return name
    return None


_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf|infinity))"
                     r"\s*(.*?)\s*$", re.IGNORECASE)


def parse(value, dimension, what="value"):
    """`value` (number or "<number> <unit>") in SI units of `dimension`, as a float.

    Raises UnitError naming `what` for a non-number, NaN/inf, an unknown unit or a unit of
    another dimension. Booleans are not numbers."""
    si, desc, _, _ = DIMENSIONS[dimension]
    if isinstance(value, bool):
        raise UnitError(f"{what} must be a number{_in(si)}, got {shorten(value)}")
    if isinstance(value, (int, float)):
        number, factor = float(value), 1.0
    elif isinstance(value, str):
        match = _NUMBER.match(value)
        if not match:
            raise UnitError(f"{what} must be a number{_in(si)} or a string like "
                            f"'{_example(dimension)}', got {shorten(value)}")
        number, unit = float(match.group(1)), match.group(2)
        if not unit:
            factor = 1.0
        else:
            factor = _TABLES[dimension].get(_normalise(unit))
            if factor is None:
                other = dimension_of(unit)
                if other is not None:
                    raise UnitError(f"{what}: unit {unit!r} is {DIMENSIONS[other][1]} "
                                    f"({DIMENSIONS[other][0] or 'no unit'}), but {what} is "
                                    f"{desc}{_in(si)}; accepted: {accepted(dimension)}")
                raise UnitError(f"{what}: unknown unit {unit!r}; {desc} takes "
                                f"{accepted(dimension)}")
    else:
        raise UnitError(f"{what} must be a number{_in(si)}, got {type(value).__name__} "
                        f"{shorten(value)}")
    result = number * factor
    if not math.isfinite(result):
        raise UnitError(f"{what} must be finite, got {shorten(value)}")
    return result


def parse_vector(value, dimension, what="value"):
    """A list of three values (each a number or "<number> <unit>") → tuple of SI floats."""
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise UnitError(f"{what} must be a list of 3 values{_in(DIMENSIONS[dimension][0])}, "
                        f"e.g. {_vector_example(dimension)}, got {shorten(value)}")
    return tuple(parse(v, dimension, f"{what}[{i}]") for i, v in enumerate(value))


def _in(si):
    return f" in {si}" if si else ""


def _example(dimension):
    return {"length": "5 nm", "time": "1 ns", "field": "25 mT", "magnetisation": "800 kA/m",
            "exchange": "13 pJ/m", "energy_density": "0.5 MJ/m3", "dmi": "3 mJ/m2",
            "temperature": "300 K", "angle": "90 deg", "gamma": "2.211e5 m/(A*s)"}.get(
                dimension, "1")


def _vector_example(dimension):
    e = _example(dimension)
    return f'["{e}", 0, 0]' if dimension != "dimensionless" else "[0, 0, 1]"


__all__ = ["UnitError", "DIMENSIONS", "parse", "parse_vector", "accepted", "dimension_of", "shorten",
           "MU0"]
