"""The YAML store: yaml.v3 scalar resolution, comment placement, in-place edits, full emit."""

from __future__ import annotations

import math
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kseal.errors import InputError, NoDocumentError
from kseal.sops.document import decrypt_docs, encrypt_docs
from kseal.sops.rules import Rules
from kseal.sops.stores.yaml_scalar import (
    folded,
    folded_ok,
    format_scalar,
    literal,
    literal_ok,
    resolve_plain,
)
from kseal.sops.stores.yaml_store import YamlStore
from kseal.sops.tree import Branch, Comment, Timestamp, leaves, to_plain
from kseal.yamlio import safe_load_all
from tests import yaml11

KEY = bytes(range(32))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("true", True),
        ("False", False),
        ("TRUE", True),
        ("null", None),
        ("~", None),
        ("", None),
        ("0x1F", 31),
        ("0o17", 15),
        ("0b101", 5),
        ("0123", 83),
        ("1_000", 1000),
        ("+1", 1),
        ("09", 9.0),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("1.", 1.0),
        ("2024-01-01", Timestamp("2024-01-01T00:00:00Z")),
        ("12:30", "12:30"),
        (".", "."),
        ("-", "-"),
        ("0x", "0x"),
    ],
)
def test_yaml_v3_resolution(text: str, value: object) -> None:
    got = resolve_plain(text)
    expected_type = type(value)
    assert type(got) is expected_type or (expected_type is float and isinstance(got, float))
    assert got == value


def test_special_floats_resolve() -> None:
    assert resolve_plain(".inf") == math.inf
    assert resolve_plain("-.Inf") == -math.inf
    assert math.isnan(resolve_plain(".NaN"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "yes",
        "123",
        "true",
        "null",
        "a: b",
        "#x",
        " lead",
        "trail ",
        "",
        "multi\nline",
        "tab\there",
        'quote"s',
        "back\\slash",
        "\x07bell",
        "\u2028",
        "ünïcødé",
        "1.0",
        "~",
        "- x",
    ],
)
def test_strings_read_back_as_strings(value: str) -> None:
    text = f"k: {format_scalar(value)}\n"
    assert safe_load_all(text) == [{"k": value}]


# Strings yaml.v3 reads as strings but a YAML 1.1 reader (kubectl, PyYAML) reads as another type.
YAML11_TYPED = [
    *("on", "On", "ON", "off", "Off", "OFF", "yes", "Yes", "YES", "no", "No", "NO"),
    *("y", "Y", "n", "N", "=", "<<", "1:20", "-1:20", "190:20:30.15", "0_", "+_", "0b_"),
    *("0o_", "0x_", "1__0", "2001-12-14 21:59:43.10 -5", "2001-12-14  21:59:43.10   Z"),
]
# Strings that stay plain: no reader takes them for anything else.
YAML11_PLAIN = ["_", "1.2.3", "yess", "onion", "1:2:3:x", "2001-12-14x", "0x", "12:30x"]


@pytest.mark.parametrize("value", YAML11_TYPED)
def test_yaml11_typed_strings_are_quoted(value: str) -> None:
    out = format_scalar(value)
    assert out.startswith('"')
    for version in ((1, 1), (1, 2)):
        assert yaml11.load(f"k: {out}\n{out}: v\n", version) == {"k": value, value: "v"}
    assert safe_load_all(f"k: {out}\n") == [{"k": value}]


@pytest.mark.parametrize("value", YAML11_PLAIN)
def test_strings_no_reader_retypes_stay_plain(value: str) -> None:
    assert format_scalar(value) == value
    assert yaml11.load(f"k: {value}\n") == {"k": value}


def test_full_emit_quotes_yaml11_keys_and_values() -> None:
    store = YamlStore()
    out = store.emit([Branch([("y", "on"), ("n", [Branch([("NO", "1:20")])])])], None).decode()
    assert out == '"y": "on"\n"n":\n    - "NO": "1:20"\n'
    assert yaml11.load(out) == {"y": "on", "n": [{"NO": "1:20"}]}


def _load(text: str) -> tuple[YamlStore, object]:
    store = YamlStore()
    return store, store.load(text.encode())


SAMPLE = """\
# top comment
apiVersion: v1   # line comment
kind: Secret
metadata:
  name: db  # the name
stringData:
  # the password follows
  password: "s3cr3t"
  list: [a, 'b, c']
  block: |
    line one
    line two

  items:
    - one
    # between
    - k: v
      n: 5
---
second: doc
"""


def test_comments_are_attached_like_sops() -> None:
    store = YamlStore()
    loaded = store.load(SAMPLE.encode())
    first = loaded.docs[0]
    assert first[0] == (Comment(" top comment"), None)
    assert first[1] == (Comment(" line comment"), None)  # a line comment goes before its item
    string_data = first.get("stringData")
    assert isinstance(string_data, Branch)
    assert string_data[0] == (Comment(" the password follows"), None)
    paths = [(leaf.path, leaf.value) for leaf in leaves(first) if isinstance(leaf.value, Comment)]
    assert ((), Comment(" top comment")) in paths
    assert (("metadata",), Comment(" the name")) in paths
    assert (("stringData", "items"), Comment(" between")) in paths


def test_round_trip_in_place_keeps_the_file_byte_for_byte() -> None:
    store = YamlStore()
    loaded = store.load(SAMPLE.encode())
    rules = Rules(encrypted_regex="^(data|stringData)$")
    ivs = iter(bytes([i]) * 32 for i in range(1, 200))
    mac = encrypt_docs(loaded.docs, KEY, rules, lambda: next(ivs))
    encrypted = store.emit(
        loaded.docs, {"lastmodified": "x", "version": "3.11.0"}, source=loaded.source
    )
    text = encrypted.decode()
    assert "s3cr3t" not in text and "line one" not in text
    assert "  name: db  # the name\n" in text  # untouched lines are byte-identical
    assert text.count("sops:\n") == 2  # every document carries the metadata
    again = store.load(encrypted)
    assert again.metadata == {"lastmodified": "x", "version": "3.11.0"}
    assert decrypt_docs(again.docs, KEY, rules) == mac
    assert store.emit(again.docs, None, source=again.source).decode() == SAMPLE.replace(
        '"s3cr3t"', "s3cr3t"
    ).replace("'b, c'", '"b, c"')


def test_aliases_are_expanded_and_each_copy_encrypted() -> None:
    store = YamlStore()
    loaded = store.load(b"base: &b {user: u, pw: p}\ncopy: *b\n")
    assert to_plain(loaded.docs[0]) == {
        "base": {"user": "u", "pw": "p"},
        "copy": {"user": "u", "pw": "p"},
    }
    encrypt_docs(loaded.docs, KEY, Rules(), lambda: os.urandom(32))
    out = store.emit(loaded.docs, None, source=loaded.source).decode()
    assert "*b" not in out and out.count("ENC[") == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "must be a mapping"),
        ("1: a\n", "only string keys"),
        ("a: 1\na: 2\n", "duplicate key"),
        ("a: [\n", "invalid YAML"),
    ],
)
def test_bad_documents(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        YamlStore().load(text.encode())


def test_empty_input() -> None:
    with pytest.raises(NoDocumentError):
        YamlStore().load(b"")


def test_full_emit_is_sops_style() -> None:
    store = YamlStore()
    loaded = store.load(b"a: {b: 1, c: [x, {d: e}]}\nempty: {}\nnone: []\ntext: |\n  l1\n  l2\n")
    out = store.emit(loaded.docs, None, indent=4).decode()
    assert out == (
        "a:\n    b: 1\n    c:\n        - x\n        - d: e\nempty: {}\nnone: []\n"
        "text: |\n    l1\n    l2\n"
    )
    assert safe_load_all(out) == safe_load_all(
        "a: {b: 1, c: [x, {d: e}]}\nempty: {}\nnone: []\ntext: |\n  l1\n  l2\n"
    )


def test_errors_do_not_echo_values() -> None:
    with pytest.raises(InputError) as info:
        YamlStore().load(b"secret-value-123: [unclosed\n")
    assert "secret-value-123" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        # an error at the end of the input is on the last line, not on the line after it
        (
            'a: 1\nb: "x\n',
            "at line 2, column 6 (while scanning a quoted scalar at line 2, column 4)",
        ),
        ("a: 1\nb: [x", "at line 2, column 6 (while parsing a flow sequence at line 2, column 4)"),
        (
            "a: 1\nb: [x\n",
            "at line 2, column 6 (while parsing a flow sequence at line 2, column 4)",
        ),
        # found on a later line: the open collection says where the problem started
        ("a: 1\nb: [x\nc: 3\n", "at line 3, column 2 (while parsing a flow sequence at line 2,"),
        ("a: 1\n  b: 2\nc: 3\n", "at line 2, column 4"),
        ("é: 1\nb: x: y\n", "at line 2, column 5"),
    ],
)
def test_invalid_yaml_reports_the_right_line(text: str, where: str) -> None:
    with pytest.raises(InputError) as info:
        YamlStore().load(text.encode())
    assert where in info.value.message
    with pytest.raises(InputError) as again:
        safe_load_all(text)
    assert where in again.value.message


@pytest.mark.parametrize(
    "value", ['"!!!"', "aGVsbG8", "aGVsbG8==", "a", "aGV sbG8=", '"aGVsbG8=\\taGVs"']
)
def test_invalid_binary_is_an_error(value: str) -> None:
    with pytest.raises(InputError, match="!!binary value holds invalid base64"):
        YamlStore().load(f"k: !!binary {value}\n".encode())


@pytest.mark.parametrize(
    ("value", "expected"),
    [("aGVsbG8=", b"hello"), ('""', b""), ("|\n  aGVs\n  bG8=", b"hello")],
)
def test_valid_binary_is_read(value: str, expected: bytes) -> None:
    loaded = YamlStore().load(f"k: !!binary {value}\n".encode())
    assert to_plain(loaded.docs[0]) == {"k": expected}


# ---- styles kept on decrypt and on a kseal round trip (encrypt, then decrypt, in place) ----------

STYLED = """\
top: |
  l1
  l2
nest:
  keep: |+
    k1

  strip: |-
    s1
    s2
  fold: >
    one folded line
  fold-strip: >-
    f1

    f2
  clip: |
    c1
  f: 1e10
  g: 1.50
  h: .5
  j: -2.5E-3
list:
  - |
    item
  - x
last: end"""


def _round_trip(text: str) -> str:
    store = YamlStore()
    loaded = store.load(text.encode())
    ivs = iter(bytes([i]) * 32 for i in range(1, 200))
    mac = encrypt_docs(loaded.docs, KEY, Rules(), lambda: next(ivs))
    encrypted = store.emit(loaded.docs, {"version": "3.11.0"}, source=loaded.source)
    assert b"l1" not in encrypted and b"1e10" not in encrypted
    again = store.load(encrypted)
    assert decrypt_docs(again.docs, KEY, Rules()) == mac
    return store.emit(again.docs, None, source=again.source).decode()


def test_round_trip_keeps_block_styles_floats_and_the_missing_final_newline() -> None:
    assert _round_trip(STYLED) == STYLED
    assert _round_trip(STYLED + "\n") == STYLED + "\n"


def test_float_spelling_is_encrypted_but_hashed_in_go_form() -> None:
    from kseal.sops.codec import sealed_bytes, to_bytes

    value = resolve_plain("1e10")
    assert value == 1e10 and format_scalar(value) == "1e10"
    assert to_bytes(value) == (b"10000000000", "float")  # what the MAC hashes, as sops
    assert sealed_bytes(value) == (b"1e10", "float")  # what is encrypted: Go parses it back
    assert format_scalar(resolve_plain("1_000.5")) == "1000.5"  # Go's ParseFloat: no "_"
    assert resolve_plain("1e400") == "1e400"  # out of range for Go: a string, as in yaml.v3


@pytest.mark.parametrize(
    ("encrypted", "decrypted"),
    [
        # a 4-space file: block content one step (4) past its key, 2 past a sequence's dash
        ("a:\n    b: X\n", "a:\n    b: |\n        l1\n        l2\n"),
        ("a: X\nb:\n    c: 1\n", "a: |\n    l1\n    l2\nb:\n    c: 1\n"),
        ("a:\n    - X\n", "a:\n    - |\n      l1\n      l2\n"),
        ("a:\n    - k: X\n      j: 1\n", "a:\n    - k: |\n        l1\n        l2\n      j: 1\n"),
        # a 2-space file
        ("a:\n  b: X\n", "a:\n  b: |\n    l1\n    l2\n"),
        ("a:\n  - k: X\n", "a:\n  - k: |\n      l1\n      l2\n"),
        # a flat file: the step of the sops metadata
        ("a: X\nsops:\n    version: 3.11.0\n", "a: |\n    l1\n    l2\n"),
    ],
)
def test_decrypted_blocks_follow_the_files_indentation(encrypted: str, decrypted: str) -> None:
    store = YamlStore()
    loaded = store.load(encrypted.encode())
    for leaf in leaves(loaded.docs[0]):
        if leaf.value == "X":
            leaf.replace("l1\nl2\n")
    assert store.emit(loaded.docs, None, source=loaded.source).decode() == decrypted


@pytest.mark.parametrize(
    ("source", "value", "expected"),
    [
        # |+ takes the empty lines that follow it: they count toward its trailing line breaks
        ("a: X\n\nb: 1\n", "k\n\n", "a: |+\n    k\n\nb: 1\n"),
        ("a: X\nb: 1\n", "k\n\n", "a: |+\n    k\n\nb: 1\n"),
        ("a: X\n\n\nb: 1\n", "k\n\n", 'a: "k\\n\\n"\n\n\nb: 1\n'),  # too many: quoted
        ("a: X", "k\n", "a: |\n    k\n"),  # at the end of the input it needs its line break
        ("a: X  # note\n", "k\n", 'a: "k\\n"  # note\n'),
    ],
)
def test_keep_chomping_and_the_text_that_follows(source: str, value: str, expected: str) -> None:
    store = YamlStore()
    loaded = store.load(source.encode())
    for leaf in leaves(loaded.docs[0]):
        if leaf.value == "X":
            leaf.replace(value)
    out = store.emit(loaded.docs, None, source=loaded.source).decode()
    assert out == expected
    assert safe_load_all(out)[0]["a"] == value


@given(st.text(alphabet="ab \n", max_size=12))
def test_block_writers_read_back(value: str) -> None:
    for ok, write in ((literal_ok, literal), (folded_ok, folded)):
        if ok(value):
            for after in ("\nz: 1\n", "\n"):
                text = "k: " + write(value, "  ") + after
                assert safe_load_all(text)[0]["k"] == value, text


def test_non_printable_class_matches_the_yaml_printable_set_on_every_code_point() -> None:
    """The positive character class equals its definition: every code point outside YAML's
    printable set (tab, \\x20-\\x7e, \\xa0-\\ud7ff, \\ue000-\\ufffd, astral), and the BOM."""
    import re

    from kseal.sops.stores.yaml_scalar import _NON_PRINTABLE

    definition = re.compile("[^\t\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|\ufeff")
    every = "".join(map(chr, range(0x110000)))
    expected = [m.start() for m in definition.finditer(every)]
    assert [m.start() for m in _NON_PRINTABLE.finditer(every)] == expected
    assert len(expected) == 9 + 22 + 33 + 2048 + 3


@given(
    st.one_of(
        st.from_regex(r"[A-Za-z][A-Za-z0-9_./-]*(?: [A-Za-z0-9_./-]+)*\Z", fullmatch=True),
        st.sampled_from(["y", "No", "on", "OFF", "null", "True", "a.b", "x-1", "e1", "n/a"]),
    ),
    st.booleans(),
)
def test_plain_word_fast_path_agrees_with_the_full_check(s: str, flow: bool) -> None:
    from kseal.sops.stores.yaml_scalar import _plain_ok, plain_ok

    assert plain_ok(s, flow=flow) == _plain_ok(s, flow)
