"""The JSON store: Go-compatible reading and writing, checked against files the real sops writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kseal.errors import EmitError, InputError
from kseal.sops.stores.json_store import JsonStore
from kseal.sops.tree import Branch, Comment, Timestamp, from_plain, to_plain
from tests.sops_runner import Sops, sops_fixture

VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors" / "sops-repo-pgp"
STORE = JsonStore()


sops = sops_fixture(".json")


def load_doc(text: str | bytes) -> Branch:
    return STORE.load(text.encode() if isinstance(text, str) else text).docs[0]


# ---- reading --------------------------------------------------------------------------------------


def test_numbers_follow_sops_3_13_2() -> None:
    doc = load_doc(
        '{"a": 25, "b": 9223372036854775807, "c": 9223372036854775808, "d": 1.0, "e": 1e2}'
    )
    assert [type(v) for _, v in doc] == [int, int, float, float, float]
    assert load_doc('{"n": -9223372036854775808}').get("n") == -(2**63)
    assert load_doc('{"n": ' + "9" * 30 + "}").get("n") == 1e30


def test_numbers_out_of_range_or_not_json_are_rejected() -> None:
    for text in ('{"a": 1e400}', '{"a": -1e400}', '{"a": ' + "9" * 5000 + "}", '{"a": NaN}'):
        with pytest.raises(InputError):
            load_doc(text)


def test_duplicate_keys_are_an_error_naming_the_key() -> None:
    with pytest.raises(InputError, match="'user'"):
        load_doc('{"x": {"user": "a", "user": "b"}}')


@pytest.mark.parametrize("text", ["[1, 2]", "[]"])
def test_top_level_array_is_rejected_with_a_hint(text: str) -> None:
    with pytest.raises(InputError) as info:
        load_doc(text)
    assert "array" in info.value.message and any("wrap" in h for h in info.value.hints)


@pytest.mark.parametrize("text", ['"s"', "1", "null"])
def test_top_level_scalar_is_rejected(text: str) -> None:
    with pytest.raises(InputError, match="object"):
        load_doc(text)


def test_syntax_errors_name_the_place_not_the_content() -> None:
    with pytest.raises(InputError) as info:
        load_doc('{\n"password": "hunter2\n}')
    assert "line 2" in info.value.message and "hunter2" not in info.value.message


def test_bom_is_skipped_and_bad_text_becomes_replacement_characters() -> None:
    assert to_plain(load_doc(b'\xef\xbb\xbf{"a": 1}')) == {"a": 1}
    assert load_doc(b'{"a": "\xff\xe2\x82x"}').get("a") == "\ufffd\ufffd\ufffdx"  # Go: one per byte
    assert load_doc('{"a": "\\ud800\\ud83d\\ude00"}').get("a") == "\ufffd\U0001f600"


def test_sops_metadata_is_split_off_including_sops_3_9_null_key_lists() -> None:
    loaded = STORE.load(
        b'{"a": "x", "sops": {"kms": null, "age": [{"recipient": "r", "enc": "e"}],'
        b' "version": "3.9.0"}}'
    )
    assert to_plain(loaded.docs[0]) == {"a": "x"}
    assert loaded.metadata == {
        "kms": None,
        "age": [{"recipient": "r", "enc": "e"}],
        "version": "3.9.0",
    }
    assert STORE.load(b'{"a": "x"}').metadata is None
    with pytest.raises(InputError):
        STORE.load(b'{"sops": "not an object"}')


# ---- writing --------------------------------------------------------------------------------------


def test_go_marshal_escaping() -> None:
    doc = Branch([("k<&>", 'a<b>&c\u2028\u2029\x00\x1f\x7f\b\f\t\r\n"\\é😀')])
    assert (
        STORE.emit([doc], None)
        == (
            '{\n\t"k\\u003c\\u0026\\u003e": '
            '"a\\u003cb\\u003e\\u0026c\\u2028\\u2029\\u0000\\u001f\x7f\\b\\f\\t\\r\\n\\"\\\\é😀"\n}\n'
        ).encode()
    )


def test_invalid_utf8_bytes_are_written_as_escaped_replacement_characters() -> None:
    assert STORE.emit([Branch([("b", b"\xffok")])], None) == b'{\n\t"b": "\\ufffdok"\n}\n'


def test_scalars_and_layout() -> None:
    doc = from_plain(
        {
            "f": [1.0, -0.0, 1e21, 1e20, 0.000001, 1e-7, 123456789.125, 0.1],
            "i": -(2**63),
            "t": Timestamp("2024-01-01T00:00:00.5Z"),
            "b": [True, False, None],
            "empty": {"o": {}, "l": []},
        }
    )
    assert isinstance(doc, Branch)
    doc.insert(0, (Comment("dropped"), None))
    expected = (
        '{\n\t"f": [\n\t\t1,\n\t\t-0,\n\t\t1e+21,\n\t\t100000000000000000000,\n\t\t0.000001,\n'
        '\t\t1e-7,\n\t\t123456789.125,\n\t\t0.1\n\t],\n\t"i": -9223372036854775808,\n'
        '\t"t": "2024-01-01T00:00:00.5Z",\n\t"b": [\n\t\ttrue,\n\t\tfalse,\n\t\tnull\n\t],\n'
        '\t"empty": {\n\t\t"o": {},\n\t\t"l": []\n\t}\n}\n'
    )
    assert STORE.emit([doc], None).decode() == expected
    assert STORE.emit([doc], None, indent=2).decode() == expected.replace("\t", "  ")
    assert STORE.emit([doc], None, indent=0).decode() == expected.replace("\t", "")


def test_metadata_is_the_last_key() -> None:
    out = STORE.emit([Branch([("a", "x")])], {"kms": None, "version": "3.11.0"})
    assert (
        out == b'{\n\t"a": "x",\n\t"sops": {\n\t\t"kms": null,\n\t\t"version": "3.11.0"\n\t}\n}\n'
    )


def test_what_json_cannot_hold() -> None:
    with pytest.raises(EmitError):
        STORE.emit([Branch([("n", float("nan"))])], None)
    with pytest.raises(EmitError):
        STORE.emit([Branch(), Branch()], None)
    with pytest.raises(EmitError):
        STORE.emit([Branch()], None, indent=-2)
    assert STORE.emit([], None) == b"{}\n"


def test_extract_output_like_sops() -> None:
    assert STORE.emit_value("raw <text>\n") == b"raw <text>\n"
    assert STORE.emit_value(b"\xff") == b"\xff"
    assert STORE.emit_value(Branch([("k", "v")])) == b'{\n\t"k": "v"\n}\n'
    assert STORE.emit_value([1, "two"]) == b'[\n\t1,\n\t"two"\n]'
    assert [STORE.emit_value(v) for v in (25, 2.5, True, None)] == [b"25", b"2.5", b"true", b"null"]


@pytest.mark.parametrize(
    "text",
    [
        '{\n\t"a": "b"\n}\n',
        "{}\n",
        '{\n\t"a": {},\n\t"b": [],\n\t"c": [\n\t\t{\n\t\t\t"d": null\n\t\t}\n\t]\n}\n',
        '{\n\t"n": 1.5,\n\t"m": -3,\n\t"t": true,\n\t"u": "\\u003c\\u2028é"\n}\n',
    ],
)
def test_canonical_plaintext_round_trips(text: str) -> None:
    assert STORE.emit(STORE.load(text.encode()).docs, None) == text.encode()


# ---- files written by sops ------------------------------------------------------------------------


def _vector(name: str) -> bytes:
    path = VECTORS / name
    if not path.exists():
        pytest.skip("the shared sops vectors are not available")
    return path.read_bytes()


def test_sops_repo_vectors_load_and_re_emit() -> None:
    data = _vector("functional-tests_res_format.enc.json")  # sops 3.13.1
    loaded = STORE.load(data)
    assert loaded.docs[0].keys_() == ["foo"] and loaded.metadata is not None
    assert [k["fp"] for k in loaded.metadata["pgp"]] == ["FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"]
    assert STORE.emit(loaded.docs, loaded.metadata) == data
    old = _vector("example.json")  # sops 3.5.0: "kms": null and no final newline
    loaded = STORE.load(old)
    assert loaded.metadata is not None and loaded.metadata["kms"] is None
    assert STORE.emit(loaded.docs, loaded.metadata) == old + b"\n"


SOPS_INPUTS = [
    {"a": "x<y>&z\u2028", "n": 25, "f": 1.5, "e": 1e-7, "b": True, "nul": None, "u": "é"},
    {"l": [1, "two", {"k": "v"}], "o": {}, "arr": [], "deep": [[], [{}], [0.1, 1e21]]},
    {"ctl": "\b\f\x00\x1f\x7f\t\r\n", "emoji": "😀", "empty": "", "x_unencrypted": {"k": 1}},
]


@pytest.mark.parametrize("value", SOPS_INPUTS)
def test_sops_encrypted_output_loads_and_re_emits_byte_for_byte(sops: Sops, value: object) -> None:
    plain = json.dumps(value).encode()
    enc = sops.encrypt(plain)
    loaded = STORE.load(enc)
    want = load_doc(plain)
    assert loaded.docs[0].keys_() == want.keys_()
    md = loaded.metadata
    assert md is not None and [a["recipient"] for a in md["age"]] == [sops.recipient]
    assert md["version"] == "3.11.0" and md["mac"].startswith("ENC[AES256_GCM,")
    assert md["unencrypted_suffix"] == "_unencrypted" and list(md)[-1] == "version"
    assert STORE.emit(loaded.docs, loaded.metadata) == enc
    # sops's decrypted output is its canonical writing of the same tree: ours must be identical
    assert sops("decrypt", data=enc) == STORE.emit([want], None)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"a": 1,\n', "at line 1, column 9"),  # the end of the input: the last line, not one past
        ('{"a": 1,\n "b": }\n', "at line 2, column 7"),
    ],
)
def test_invalid_json_reports_the_right_line(text: str, where: str) -> None:
    with pytest.raises(InputError) as info:
        JsonStore().load(text.encode())
    assert info.value.message.endswith(where)
