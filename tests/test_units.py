"""femag.units: quantities with units in config files → SI floats (pure Python, no MPI)."""
import math

import pytest

from femag.units import MU0, UnitError, accepted, dimension_of, parse, parse_vector


@pytest.mark.parametrize("text, dim, si", [
    ("5 nm", "length", 5e-9), ("2.5e-9 m", "length", 2.5e-9), ("1 µm", "length", 1e-6),
    ("3 Å", "length", 3e-10), (5e-9, "length", 5e-9), ("5e-9", "length", 5e-9),
    ("800 kA/m", "magnetisation", 8e5), ("1 MA/m", "field", 1e6),
    ("1.3e-11 J/m", "exchange", 1.3e-11), ("13 pJ/m", "exchange", 1.3e-11),
    ("0.5 MJ/m3", "energy_density", 5e5), ("0.5 MJ/m^3", "energy_density", 5e5),
    ("0.5 MJ/m³", "energy_density", 5e5), ("1e6 erg/cm3", "energy_density", 1e5),
    ("3 mJ/m2", "dmi", 3e-3), ("3 mJ/m²", "dmi", 3e-3),
    ("1 ns", "time", 1e-9), ("10 min", "time", 600.0), ("1 h", "time", 3600.0),
    ("300 K", "temperature", 300.0), ("90 deg", "angle", math.pi / 2),
    ("2.211e5 m/(A s)", "gamma", 2.211e5), ("-4 ps", "time", -4e-12),
])
def test_parse_to_si(text, dim, si):
    assert parse(text, dim) == pytest.approx(si, rel=1e-12)


def test_tesla_is_mu0_h():
    """A field given in tesla is μ0 H: 25 mT → 25e-3/μ0 A/m = 19894.4 A/m; 1 Oe = 1e3/4π A/m."""
    assert parse("25 mT", "field") == pytest.approx(25e-3 / (4e-7 * math.pi), rel=1e-12)
    assert parse("25 mT", "field") == pytest.approx(19894.3678864869, rel=1e-12)
    assert parse("1 Oe", "field") == pytest.approx(79.5774715459, rel=1e-10)
    assert MU0 == 4e-7 * math.pi


def test_wrong_dimension_names_key_unit_and_expected():
    with pytest.raises(UnitError) as err:
        parse("5 nm", "magnetisation", "materials.magnet.Ms")
    msg = str(err.value)
    assert "materials.magnet.Ms" in msg and "'nm'" in msg and "a length" in msg and "A/m" in msg


def test_unknown_unit_lists_accepted():
    with pytest.raises(UnitError, match=r"unknown unit 'furlong'.*J/m3"):
        parse("5 furlong", "energy_density", "Ku")
    assert "[prefix]m" in accepted("length")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "nan nm", "-inf", "1e999 nm", True,
                                 None, [1, 2], "nm", "five nm", "", "5 5 nm"])
def test_rejects_non_numbers_and_non_finite(bad):
    with pytest.raises(UnitError):
        parse(bad, "length", "geometry.lx")


def test_dimensionless_takes_no_unit():
    assert parse("0.02", "dimensionless") == 0.02
    with pytest.raises(UnitError, match="alpha"):
        parse("0.02 nm", "dimensionless", "alpha")


def test_vectors_mix_numbers_and_quantities():
    h = parse_vector(["-24.6 mT", "4.3 mT", 0], "field", "H")
    assert h == pytest.approx((-24.6e-3 / MU0, 4.3e-3 / MU0, 0.0))
    with pytest.raises(UnitError, match=r"H\[1\]"):
        parse_vector([0, "4 nm", 0], "field", "H")
    with pytest.raises(UnitError, match="list of 3"):
        parse_vector([0, 0], "field", "H")
    with pytest.raises(UnitError, match="list of 3"):
        parse_vector("0 0 1", "field", "H")


def test_dimension_of():
    assert dimension_of("kA/m") == "field" and dimension_of("ps") == "time"
    assert dimension_of("bogus") is None
