"""Template syntaxes are recognised exactly: a literal value cannot pass as a template."""

from __future__ import annotations

import pytest

from kseal.check.templates import render_neutral, templated

TEMPLATED = [
    "{{ .Values.password }}",
    "{{- .Values.password | b64enc | quote -}}",
    '{{ requiredEnv "DB_PASSWORD" }}',
    "{{ db_password }}",
    "{% if x %}a{% else %}b{% endif %}",
    "${DB_PASSWORD}",
    "${DB_PASSWORD:=default}",
    "postgres://app:${DB_PASSWORD}@db:5432/app",
    "$(DB_PASSWORD)",
    "<password>",
    "<path:secret/data/db#password>",
    "<path:secret/data/db#password#2 | base64encode>",
    "ref+vault://secret/db#/password",
]
LITERAL = [
    "hunter2",
    "hunter2${",
    "${ hunter2 }",
    "$hunter2",
    "$(hunter 2)",
    "<b>hunter2</b>",
    "<hunter2",
    "< hunter2 >",
    "ref+hunter2",
    "{{}}",
    "hunter2{{ }}",
    "{{/* note */}}hunter2",
    '{{ "hunter2" }}',
    '{{ "hunter2" | b64enc }}',
    '{{ print "hunter2" }}',
    "{{- `hunter2` | quote -}}",
    "{# note #}hunter2",
]


@pytest.mark.parametrize("value", TEMPLATED)
def test_templated(value: str) -> None:
    assert templated(value)


@pytest.mark.parametrize("value", LITERAL)
def test_literal(value: str) -> None:
    assert not templated(value)


def test_render_neutral_keeps_lines_and_literals() -> None:
    text = (
        "{{- if .Values.enabled }}\n"
        "stringData:\n"
        "  a: {{ .Values.a | quote }}\n"
        '  b: {{ "literal" }}\n'
        "{{- end }}{{/* trailing */}}\n"
    )
    out = render_neutral(text).split("\n")
    assert len(out) == len(text.split("\n"))
    assert out[0] == "" and out[4] == ""
    assert templated(out[2].split(": ", 1)[1])
    assert out[3] == "  b: literal"
