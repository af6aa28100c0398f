"""kseal.gotemplate: the Go text/template + sprig subset the controller renders template data with.

Expected outputs are Go's (text/template, sprig v3, encoding/json, fmt), taken from their sources
and tests; none of them is produced by this implementation first.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kseal.gotemplate import SUPPORTED, TemplateError, render

ROOT = Path(__file__).resolve().parents[1]
VALUES = {
    "user": "admin",
    "password": "p<a>&ss",
    "dash-key": "dashed",
    "padded": " \t value \n",
    "multi": "a\nb",
    "empty": "",
    "unicode": "héllo wörld",
}
SENTINEL = "SENTINEL-5f3a9c"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("plain text", "plain text"),
        ("{{ .user }}", "admin"),
        ("{{.user}}:{{.password}}", "admin:p<a>&ss"),
        ('{{ index . "dash-key" }}', "dashed"),
        ("{{ . }}".replace("{{ . }}", "{{ .empty }}"), ""),
        ("x {{- .user -}} y", "xadminy"),
        ("x\n\t {{- .user }} \n y", "xadmin \n y"),
        ("{{ .user -}} \n\t y", "adminy"),
        ("{{/* a comment */}}z", "z"),
        ("a {{- /* trimmed comment */ -}} b", "ab"),
        ("{{-3}}", "-3"),
        ("{{ 42 }}{{ true }}", "42true"),
        ('{{ "lit\\t\\u00e9" }}', "lit\té"),
        ("{{ `raw\\n` }}", "raw\\n"),
        ("{{ .user | upper }}", "ADMIN"),
        ("{{ upper .user | lower }}", "admin"),
        ("{{ (upper .user) }}", "ADMIN"),
        ('{{ printf "%s-%s" (upper .user) .user }}', "ADMIN-admin"),
    ],
)
def test_references_literals_trimming_and_pipelines_render_as_go(
    template: str, expected: str
) -> None:
    assert render(template, VALUES) == expected


def test_a_missing_key_renders_as_go_no_value_but_index_gives_empty() -> None:
    assert render("{{ .nope }}", VALUES) == "<no value>"
    assert render('{{ index . "nope" }}', VALUES) == ""
    assert render('{{ .nope | default "d" }}', VALUES) == "d"
    assert render("{{ .nope | toJson }}", VALUES) == "null"
    assert render("{{ quote .nope }}", VALUES) == ""


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # encoding/json: <>& escaped by toJson, not by toRawJson; U+2028/9 always escaped
        ("{{ toJson .password }}", '"p\\u003ca\\u003e\\u0026ss"'),
        ("{{ toRawJson .password }}", '"p<a>&ss"'),
        ("{{ toPrettyJson .password }}", '"p\\u003ca\\u003e\\u0026ss"'),
        (
            '{{ toJson "\\b\\f\\n\\r\\t\\x01\\x7f\\u2028é\\"\\\\" }}',
            '"\\b\\f\\n\\r\\t\\u0001\x7f\\u2028é\\"\\\\"',
        ),
        ('{{ toRawJson "\\u2029" }}', '"\\u2029"'),
        ('{{ toJson "\\xff" }}', '"\\ufffd"'),
        ("{{ toJson (list .user 3 true) }}", '["admin",3,true]'),
        ("{{ toPrettyJson (list .user .empty) }}", '[\n  "admin",\n  ""\n]'),
        ("{{ toPrettyJson list }}", "[]"),
        ("{{ toJson (list) }}", "[]"),
        # sprig strings
        ("{{ quote .user .nope 3 }}", '"admin" "3"'),
        ('{{ quote "a\\x80\\u00a0\\u200b\\a\\x00" }}', '"a\\x80\\u00a0\\u200b\\a\\x00"'),
        ("{{ squote .user 3 }}", "'admin' '3'"),
        ("{{ .user | b64enc }}", "YWRtaW4="),
        ('{{ "YWRtaW4=" | b64dec }}', "admin"),
        ('{{ "YWRt\\r\\naW4=" | b64dec }}', "admin"),
        ('{{ "YWRtaW4" | b64dec }}', "illegal base64 data at input byte 4"),
        ('{{ "YW!taW4=" | b64dec }}', "illegal base64 data at input byte 2"),
        ('{{ "YQ==YQ==" | b64dec }}', "illegal base64 data at input byte 4"),
        ('{{ "YQ=x" | b64dec }}', "illegal base64 data at input byte 2"),
        ('{{ "YQ=" | b64dec }}', "illegal base64 data at input byte 3"),
        ("{{ .padded | trim }}", "value"),
        ('{{ "\\x1c x \\u00a0" | trim }}', "\x1c x"),
        ('{{ .user | trimSuffix "in" | trimPrefix "ad" }}', "m"),
        ('{{ .user | replace "a" "A" }}', "Admin"),
        ('{{ replace "" "-" "ab" }}', "-a-b-"),
        ("{{ indent 4 .multi }}", "    a\n    b"),
        ("{{ .multi | nindent 2 }}", "\n  a\n  b"),
        ('{{ "foooooo" | trunc 3 }}', "foo"),
        ('{{ trunc -3 "foooooo" }}', "ooo"),
        ('{{ trunc 99 "foo" }}', "foo"),
        ('{{ cat "a" .nope "b" 3 }}', "a b 3"),
        ('{{ " a b\\t" | nospace }}', "ab"),
        ("{{ .unicode | nospace }}", "hÃ©llowÃ¶rld"),  # goutils works byte by byte
        ("{{ .unicode | upper }}", "HÉLLO WÖRLD"),
        ('{{ "straße" | upper }}', "STRAßE"),  # Go's simple case mapping
        ('{{ "\\u0130" | lower }}', "i"),
        ('{{ list .user "b" | join "," }}', "admin,b"),
        ('{{ join "-" .user }}', "admin"),
        ("{{ list .user .nope 3 }}", "[admin <nil> 3]"),
        ('{{ "" | default "foo" }}', "foo"),
        ('{{ default "foo" 234 }}', "234"),
        ('{{ default "123" }}', "123"),
        ('{{ .user | default "x" }}', "admin"),
        # builtins: print is fmt.Sprint, printf fmt.Sprintf
        ('{{ print 1 2 "a" 3 "b" }}', "1 2a3b"),
        ("{{ println .user 3 }}", "admin 3\n"),
        ('{{ printf "%s/%d/%q/%v/%%" .user 7 .password true }}', 'admin/7/"p<a>&ss"/true/%'),
        ('{{ printf "%d|%s|%v" .user 3 .nope }}', "%!d(string=admin)|%!s(int=3)|<nil>"),
        ('{{ printf "%s %s" .user }}', "admin %!s(MISSING)"),
        ('{{ printf "%s" .user 3 "x" }}', "admin%!(EXTRA int=3, string=x)"),
        ('{{ printf "%s" (list .user 3) }}', "[admin %!s(int=3)]"),
        ('{{ printf "end%" }}', "end%!(NOVERB)"),
        (
            "{{ . }}",
            "map[dash-key:dashed empty: multi:a\nb padded: \t value \n password:p<a>&ss unicode:héllo wörld user:admin]",
        ),
        ('{{ toJson (index . "user") }}', '"admin"'),
        ('{{ index (list "a" "b") 1 }}', "b"),
    ],
)
def test_functions_render_byte_identical_to_go_and_sprig(template: str, expected: str) -> None:
    assert render(template, VALUES) == expected


def test_the_root_map_encodes_as_go_json_with_sorted_keys() -> None:
    assert render("{{ toJson . }}", {"b": "<", "a": "1"}) == '{"a":"1","b":"\\u003c"}'
    assert render("{{ toPrettyJson . }}", {"b": "2", "a": "1"}) == '{\n  "a": "1",\n  "b": "2"\n}'


def test_undecodable_bytes_pass_through_unchanged() -> None:
    raw = b"\xff\xfeok".decode("utf-8", "surrogateescape")
    assert render("{{ .v }}", {"v": raw}) == raw
    assert render("{{ .v | b64enc | b64dec }}", {"v": raw}) == raw
    assert render("{{ .v | b64enc }}", {"v": raw}) == "//5vaw=="
    assert render("{{ quote .v }}", {"v": raw}) == '"\\xff\\xfeok"'
    assert render("{{ trunc 1 .v }}", {"v": "é"}) == b"\xc3".decode("utf-8", "surrogateescape")


@pytest.mark.parametrize(
    ("template", "names"),
    [
        ("{{ if .user }}x{{ end }}", '"if" actions are not supported'),
        ("{{ range . }}x{{ end }}", '"range" actions are not supported'),
        ("{{ with .user }}x{{ end }}", '"with" actions are not supported'),
        ('{{ define "x" }}{{ end }}', '"define" actions are not supported'),
        ("{{ $x := .user }}", "variables ($) are not supported"),
        ("{{ $ }}", "variables ($) are not supported"),
        (
            "{{ .user | sha256sum }}",
            'function "sha256sum" is not supported by kseal; supported: b64dec',
        ),
        ('{{ env "HOME" }}', 'function "env" is not supported'),
        ('{{ expandenv "$HOME" }}', 'function "expandenv" is not supported'),
        ('{{ getHostByName "example.com" }}', 'function "getHostByName" is not supported'),
        ("{{ nosuchfunction }}", 'function "nosuchfunction" is not supported'),
        ("{{ .user.name }}", "chained field access"),
        ("{{ 1.5 }}", "only decimal integer literals"),
        ("{{ 0x1F }}", "only decimal integer literals"),
        ("{{ 010 }}", "only decimal integer literals"),  # octal in Go
        ("{{ 99999999999999999999 }}", "integer literal out of range"),
        ('{{ indent -1 "a" }}', "negative count"),
        ("{{ 'a' }}", "character constants"),
        ("{{ nil }}", "nil is not supported"),
        ("{{ .user", "unclosed action"),
        ("{{ }}", "missing value for command"),
        ("{{ ( .user }}", "unclosed left paren"),
        ("{{ .user ) }}", "unexpected right paren"),
        ("{{/* open", "unclosed comment"),
        ("{{/* c */ x}}", "comment ends before closing delimiter"),
        ('{{ "open }}', "unterminated quoted string"),
        ('{{ "\\q" }}', "invalid escape sequence"),
        ("{{ .user | 3 }}", "non executable command in pipeline stage 2"),
        ("{{ .user .password }}", "only a function can take arguments"),
        (
            "{{ upper .nope }}",
            'function "upper": argument 1 has the wrong type (expected string, got a missing value)',
        ),
        ("{{ indent .user .user }}", "expected int, got string"),
        ("{{ upper }}", "wrong number of arguments (want 1, got 0)"),
        ('{{ printf "%5s" .user }}', "only the verbs"),
        ('{{ printf "%x" .user }}', "only the verbs"),
        ('{{ index .user "x" }}', "kseal supports only index"),
        ("{{ index .nope 1 }}", "index of untyped nil"),
        ("{{ index (list 1) 5 }}", "index out of range: 5"),
        ("{{ @ }}", "unexpected character"),
        ("{{" + "(" * 60 + ".user" + ")" * 60 + "}}", "nested deeper than"),
    ],
)
def test_anything_else_is_a_template_error_naming_the_construct(template: str, names: str) -> None:
    with pytest.raises(TemplateError) as caught:
        render(template, VALUES)
    assert names in caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    "template",
    [
        "{{ if .s }}SENTINEL-5f3a9c{{ end }}",
        "{{ .s | sha256sum }}",
        "{{ upper .s .s }}",
        "{{ .s.x }}",
        '{{ printf "%x" .s }}',
        '{{ index .s "k" }}',
        "{{ indent .s .s }}",
        "SENTINEL-5f3a9c {{ .s",
        '{{ "SENTINEL-5f3a9c }}',
        '{{ "SENTINEL-5f3a9c\\q" }}',
        "{{/* SENTINEL-5f3a9c */ x }}",
    ],
)
def test_errors_never_echo_template_text_or_values(template: str) -> None:
    with pytest.raises(TemplateError) as caught:
        render(template, {"s": SENTINEL})
    assert SENTINEL not in caught.value.message
    assert all(SENTINEL not in hint for hint in caught.value.hints)


TEMPLATE_TEXT = st.lists(
    st.sampled_from(
        [
            "{{",
            "}}",
            "{{-",
            "-}}",
            " ",
            "-",
            ".",
            ".a",
            "|",
            "(",
            ")",
            '"',
            "`",
            "\\",
            "/*",
            "*/",
            "$",
            "3",
            "-3",
            "x",
            "\n",
            "upper",
            "index",
            "printf",
            "%",
            "%s",
            "toJson",
            "list",
            "trunc",
            "default",
            "b64dec",
            "if",
            "end",
            "nil",
            "true",
            "é",
            "\udcff",
        ]
    ),
    max_size=24,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(TEMPLATE_TEXT, st.text(max_size=5))
def test_any_template_renders_or_is_a_one_line_template_error(source: str, value: str) -> None:
    message = ""
    try:
        render(source, {"a": value, "b": SENTINEL})
    except TemplateError as err:
        message = err.message
    assert "\n" not in message and SENTINEL not in message


def test_every_documented_function_is_supported_and_vice_versa() -> None:
    doc = (ROOT / "docs" / "controller" / "templates.md").read_text()
    table = re.search(r"<!-- functions -->\n(.*?)<!-- /functions -->", doc, re.DOTALL)
    assert table, "docs/controller/templates.md lost its functions table markers"
    documented = re.findall(r"^\| `(\w+)`", table.group(1), re.MULTILINE)
    assert documented == sorted(documented)
    assert tuple(documented) == SUPPORTED


def test_every_documented_example_renders_as_the_doc_says() -> None:
    doc = (ROOT / "docs" / "controller" / "templates.md").read_text()
    values = {"username": "admin", "password": "s3cr<t>", "host": "db.example", "port": "5432"}
    examples = re.findall(r"^\| `(\{\{.*?\}\})` \| `(.*?)` \|$", doc, re.MULTILINE)
    assert len(examples) >= 10
    for template, expected in examples:
        template = template.replace("\\|", "|")
        rendered = render(template, values).replace("\n", "\\n")
        assert rendered == expected.replace("\\|", "|"), template
