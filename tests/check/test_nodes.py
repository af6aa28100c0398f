"""The scanner's YAML nodes, built from kseal's typed events."""

from __future__ import annotations

from kseal.check.nodes import Map, Scalar, parse


def test_plain_nulls_are_null_and_quoted_ones_are_strings() -> None:
    """A plain ``~``/``null`` is null; the same text quoted is a string. (With ruamel's raw C
    events the scanner read every scalar as quoted, so no value was ever null.)"""
    [doc] = parse("a: ~\nb: null\nc: 'null'\nd: \"~\"\ne:\n")
    assert isinstance(doc, Map)
    values = {k.value: v for k, v in doc.items}
    assert all(isinstance(v, Scalar) for v in values.values())
    nulls = {k for k, v in values.items() if isinstance(v, Scalar) and v.is_null}
    assert nulls == {"a", "b", "e"}


def test_positions_are_one_based_lines_and_columns() -> None:
    [doc] = parse("x:\n  y: 1\n", line_offset=10)
    assert isinstance(doc, Map)
    inner = doc.items[0][1]
    assert isinstance(inner, Map)
    assert (inner.line, inner.col) == (12, 3)
