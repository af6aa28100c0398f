"""Go text forms of floats and times (strconv/time), which sops hashes and encrypts."""

from __future__ import annotations

import math

import pytest

from kseal.sops import gofmt


@pytest.mark.parametrize(
    ("x", "f", "g", "j"),
    [
        (1.0, "1", "1", "1"),
        (25.4, "25.4", "25.4", "25.4"),
        (1e21, "1000000000000000000000", "1e+21", "1e+21"),
        (1e-7, "0.0000001", "1e-07", "1e-7"),
        (1234568000.0, "1234568000", "1.234568e+09", "1234568000"),
        (100000.0, "100000", "100000", "100000"),
        (0.1 + 0.2, "0.30000000000000004", "0.30000000000000004", "0.30000000000000004"),
        (-0.0, "-0", "-0", "-0"),
        (-1.5, "-1.5", "-1.5", "-1.5"),
    ],
)
def test_float_forms(x: float, f: str, g: str, j: str) -> None:
    assert gofmt.format_float_f(x) == f
    assert gofmt.format_float_g(x) == g
    assert gofmt.format_float_json(x) == j


def test_special_floats() -> None:
    assert gofmt.format_float_f(math.inf) == "+Inf"
    assert gofmt.format_float_f(-math.inf) == "-Inf"
    assert gofmt.format_float_f(math.nan) == "NaN"
    with pytest.raises(ValueError, match="NaN"):
        gofmt.format_float_json(math.nan)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("2024-01-01", "2024-01-01T00:00:00Z"),
        ("2024-1-2", "2024-01-02T00:00:00Z"),
        ("2025-01-02 03:04:05", "2025-01-02T03:04:05Z"),
        ("2025-01-02 03:04:05.120", "2025-01-02T03:04:05.12Z"),
        ("2006-01-02T15:04:05+07:06", "2006-01-02T15:04:05+07:06"),
        ("2006-01-02t15:04:05Z", "2006-01-02T15:04:05Z"),
        ("2006-01-02T15:04:05+00:00", "2006-01-02T15:04:05Z"),
    ],
)
def test_yaml_timestamps(text: str, canonical: str) -> None:
    assert gofmt.yaml_timestamp(text) == canonical


@pytest.mark.parametrize("text", ["2024-13-01", "2024-01-01T10:00:00", "24-01-01", "2024-02-30"])
def test_not_timestamps(text: str) -> None:
    assert gofmt.yaml_timestamp(text) is None


def test_parse_bool_and_int() -> None:
    assert gofmt.parse_bool("TRUE") is True
    with pytest.raises(ValueError, match="invalid"):
        gofmt.parse_bool("yes")
    assert gofmt.parse_int("-9223372036854775808") == -(2**63)
    with pytest.raises(ValueError, match="range"):
        gofmt.parse_int("9223372036854775808")
