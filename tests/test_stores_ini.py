"""The INI store: go-ini's reading rules and pretty layout, checked against the real sops."""

from __future__ import annotations

from pathlib import Path

import pytest

from kseal.errors import EmitError, InputError
from kseal.sops.stores.ini import IniStore
from kseal.sops.tree import Branch, Comment, Timestamp, Value
from tests.sops_runner import Sops, sops_fixture

VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors" / "sops-repo-pgp"
STORE = IniStore()


sops = sops_fixture(".ini")


def sections(data: bytes) -> list[tuple[object, list[tuple[object, Value]]]]:
    return [(name, list(body)) for name, body in STORE.load(data).docs[0]]


def section(data: bytes) -> list[tuple[object, Value]]:
    """The items of the one section ``[s]``."""
    found = sections(data)
    assert found[0] == ("DEFAULT", []) and [n for n, _ in found] == ["DEFAULT", "s"]
    return found[1][1]


def C(text: str) -> tuple[Comment, None]:
    return (Comment(text), None)


# ---- reading --------------------------------------------------------------------------------------


def test_default_section_holds_keys_before_the_first_header() -> None:
    assert sections(b"k=v\n\n[a]\nj : w\n[b]\n") == [
        ("DEFAULT", [("k", "v")]),
        ("a", [("j", "w")]),
        ("b", []),
    ]
    assert sections(b"[s]\n")[0] == ("DEFAULT", [])


@pytest.mark.parametrize(
    ("line", "items"),
    [
        (b"k =   spaced   ", [("k", "spaced")]),
        (b"k = v=w", [("k", "v=w")]),
        (b"k = 'single'", [("k", "single")]),
        (b'k = "double"', [("k", "double")]),
        (b'k = "a"b"', [("k", '"a"b"')]),
        (b'k = "a # b"', [("k", '"a'), C('b"')]),  # go-ini cuts comments before unquoting
        (b"k = `a;b` ; after", [("k", "a;b")]),
        (b"k = `a`b`", [("k", "a`b")]),
        (b'k = """one"""', [("k", "one")]),
        (b"k = v ; inline", [("k", "v"), C("inline")]),
        (b"k=#x", [("k", ""), C("x")]),
        (b'"quoted key" = v', [("quoted key", "v")]),
        (b"`a=b` = v", [("a=b", "v")]),
        (b"k = \xc3\xa9\xff", [("k", b"\xc3\xa9\xff")]),
    ],
)
def test_value_rules(line: bytes, items: list[tuple[object, Value]]) -> None:
    assert section(b"[s]\n" + line + b"\n") == items


def test_multiline_and_continued_values() -> None:
    assert section(b'[s]\nk = """multi\n  line\nvalue""" ; c\nj = 2\n') == [
        ("k", "multi\n  line\nvalue"),
        C("c"),
        ("j", "2"),
    ]
    assert section(b"[s]\nk = cont \\\n  inued \\\n more\nn = 1\n") == [
        ("k", "cont inued more"),
        ("n", "1"),
    ]


def test_comments_attach_to_the_next_header_or_key() -> None:
    assert sections(b"# c1\n; c2\n[s] ; head\n# k1\na=1 # inline\nb=2\n; before t\n[t]\n") == [
        ("DEFAULT", []),
        ("s", [C("c1\n; c2\n; head"), ("a", "1"), C("k1\n# inline"), ("b", "2")]),
        ("t", [C("before t")]),
    ]
    assert section(b"[s]\nk = v\n; trailing comments are dropped, as in sops\n") == [("k", "v")]


def test_repeats_follow_go_ini() -> None:
    assert section(b"[s]\n; c\na = 1\nb = 2\na = 3\n") == [("a", "3"), ("b", "2")]
    assert [n for n, _ in sections(b"[s]\na=1\n[s]\nb=2\n[DEFAULT]\n")] == [
        "DEFAULT",
        "s",
        "s",
        "DEFAULT",
    ]


def test_crlf_and_byte_order_mark() -> None:
    assert section(b"\xef\xbb\xbf[s]\r\nk = v\r\n") == [("k", "v")]


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"[s]\nno delimiter secret\n", 2),
        (b"[s\n", 1),
        (b"[]\n", 1),
        (b"k=1\n= secret\n", 2),
        (b'[s]\nk = """never\nclosed secret\n', 2),
        (b'"unclosed = secret\n', 1),
    ],
)
def test_errors_name_the_line_not_its_content(data: bytes, line: int) -> None:
    with pytest.raises(InputError) as info:
        STORE.load(data)
    assert f"line {line}" in info.value.message and "secret" not in info.value.message


def test_sops_section_is_the_metadata() -> None:
    loaded = STORE.load(
        b"[s]\nk = v\n\n[sops]\nage__list_0__map_enc = A\\nB\\n\nage__list_0__map_recipient = r\n"
        b'mac_only_encrypted = true\nlastmodified = """x\ny"""\n'
    )
    assert [n for n, _ in loaded.docs[0]] == ["DEFAULT", "s"]
    assert loaded.metadata == {
        "age": [{"enc": "A\nB\n", "recipient": "r"}],
        "mac_only_encrypted": "true",
        "lastmodified": "x\ny",  # sops 3.13.0/3.13.1 wrote go-ini multi-line values
    }
    assert STORE.load(b"[s]\nk = v\n").metadata is None


# ---- writing --------------------------------------------------------------------------------------


def test_pretty_layout() -> None:
    doc = Branch(
        [
            ("DEFAULT", Branch([("top", "1")])),
            ("sec", Branch([C("head\n# two"), ("a", "x"), C(" key comment"), ("longer", "")])),
            ("quoting", Branch([("sp", " v "), ("hash", "a#b"), ("nl", "a\nb"), ("bt", "a`b")])),
            ("keys", Branch([("k=", "1"), ('k"', "2"), ("k`", "3"), ("é", "4")])),
        ]
    )
    assert STORE.emit([doc], None).decode() == (
        "top = 1\n\n"
        "; head\n# two\n[sec]\n"
        "; key comment\na      = x\nlonger = \n\n"
        '[quoting]\nsp   = " v "\nhash = `a#b`\nnl   = """a\nb"""\nbt   = """a`b"""\n\n'
        '[keys]\n`k=`     = 1\n`k"`     = 2\n"""k`""" = 3\né       = 4\n'
    )


def test_sections_from_other_formats_like_sops() -> None:
    doc = Branch(
        [
            ("DEFAULT", Branch()),
            (Comment("top-level comments have no place"), None),
            ("s", Branch([C("dropped? no: the section comment"), C("dropped"), ("a", "1")])),
            (
                "v",
                Branch(
                    [
                        ("f", 1.0),
                        ("b", True),
                        ("n", None),
                        ("t", Timestamp("2024-01-01T00:00:00.5Z")),
                    ]
                ),
            ),
            ("default", Branch([("x", "1")])),
        ]
    )
    assert STORE.emit([doc], None).decode() == (
        "; dropped? no: the section comment\n[s]\na = 1\n\n"
        "[v]\nf = 1.0\nb = true\nn = <nil>\nt = 2024-01-01T00:00:00Z\n\n[default]\nx = 1\n"
    )
    assert STORE.emit([Branch([("default", Branch([("x", "1")]))])], None) == b"x = 1\n"


def test_metadata_is_a_last_sops_section_sorted_by_key() -> None:
    metadata = {"version": "3.11.0", "age": [{"recipient": "r", "enc": "E\nF\n"}], "kms": []}
    assert STORE.emit([Branch([("s", Branch([("k", "v")]))])], metadata).decode() == (
        "[s]\nk = v\n\n[sops]\n"
        "age__list_0__map_enc       = E\\nF\\n\nage__list_0__map_recipient = r\n"
        "version                    = 3.11.0\n"
    )


def test_what_ini_cannot_hold() -> None:
    for doc in (
        Branch([("s", "not a section")]),
        Branch([("s", Branch([("k", Branch())]))]),
        Branch([("s", Branch([("k", [1])]))]),
        Branch([("", Branch())]),
    ):
        with pytest.raises(EmitError):
            STORE.emit([doc], None)


def test_extract_output_like_sops() -> None:
    assert STORE.emit_value("a\nb") == b"a\nb"
    assert STORE.emit_value(25) == b"25"
    assert STORE.emit_value(Branch([("s", Branch([("k", "v")]))])) == b"[s]\nk = v\n"
    with pytest.raises(EmitError):
        STORE.emit_value(Branch([("k", "v")]))  # a section's keys are no INI file (sops fails too)
    with pytest.raises(EmitError):
        STORE.emit_value([1])


@pytest.mark.parametrize(
    "text", [b"k = v\n", b"[a]\nx = 1\n\n[b]\ny = 2\n", b"; c\n[a]\n; k\nx = `#`\n", b""]
)
def test_canonical_plaintext_round_trips(text: bytes) -> None:
    assert STORE.emit(STORE.load(text).docs, None) == text


# ---- files written by sops ------------------------------------------------------------------------


def _split(data: bytes) -> tuple[bytes, list[bytes]]:
    """The data part and the sorted [sops] lines (sops 3.11 writes them in Go map order)."""
    head, _, meta = data.partition(b"[sops]\n")
    return head, sorted(line for line in meta.splitlines() if line)


def test_sops_repo_vectors() -> None:
    if not (VECTORS / "functional-tests_res_format.enc.ini").exists():
        pytest.skip("the shared sops vectors are not available")
    data = (VECTORS / "functional-tests_res_format.enc.ini").read_bytes()  # 3.13.2, sorted
    loaded = STORE.load(data)
    assert loaded.metadata is not None and loaded.metadata["version"] == "3.13.2"
    assert STORE.emit(loaded.docs, loaded.metadata) == data
    old = (VECTORS / "example.ini").read_bytes()  # 3.5.0
    loaded = STORE.load(old)
    assert [n for n, _ in loaded.docs[0]] == [
        "DEFAULT",
        "name",
        "address",
        "phoneNumbers",
        "not private",
    ]
    assert isinstance(loaded.docs[0][1][1], Branch) and isinstance(
        loaded.docs[0][1][1][0][0], Comment
    )
    assert loaded.metadata is not None and len(loaded.metadata["pgp"]) == 2
    assert _split(STORE.emit(loaded.docs, loaded.metadata)) == _split(old)


SOPS_INPUTS = [
    b"a=1\n",
    b'; top\ntopkey = topval\nother=x\n\n# c1\n; c2\n[sec one]\na = 1\n; k\nlonger = "q"\nc = v ; in\n',
    b"[s]\nd = `back#tick`\ne =   spaced   \n[empty]\n\n[s2]\nk: colon\n",
    b"[s]\na = 1\na = 2\n[s]\nb = 3\n[DEFAULT]\nx = 1\n[default]\ny = 2\n",
    b'[s]\nk = """multi\nline""" ; after\nj = cont \\\n inued\n"q k" = `v`\n',
    b"[s]\n\xc3\xa9 = \xc3\xa9\xff\nab = 2\nx_unencrypted = plain\nk=v\r\n;\n",
    b"[s]\nk = v\n; trailing\n",
]


@pytest.mark.parametrize("plain", SOPS_INPUTS)
def test_sops_encrypted_ini_loads_and_re_emits(sops: Sops, plain: bytes) -> None:
    enc = sops("encrypt", "--age", sops.recipient, data=plain)
    loaded = STORE.load(enc)
    want = STORE.load(plain).docs[0]
    shape = [(n, [k if isinstance(k, str) else "#" for k, _ in b]) for n, b in want]
    assert [
        (n, [k if isinstance(k, str) else "#" for k, _ in b]) for n, b in loaded.docs[0]
    ] == shape
    md = loaded.metadata
    assert md is not None and md["age"] == [
        {"recipient": sops.recipient, "enc": md["age"][0]["enc"]}
    ]
    assert md["age"][0]["enc"].endswith("-----END AGE ENCRYPTED FILE-----\n")
    assert set(md) == {"age", "lastmodified", "mac", "unencrypted_suffix", "version"}
    assert _split(STORE.emit(loaded.docs, md)) == _split(enc)
    assert sops("decrypt", data=enc) == STORE.emit([want], None)


def test_conversion_from_yaml_writes_values_like_sops(sops: Sops) -> None:
    from kseal.sops.stores.yaml_store import YamlStore

    plain = (
        b"sec:\n  a: 1.0\n  b: 1e6\n  d: true\n  e: null\n  f: 2024-01-01T01:02:03.5+01:00\n"
        b"  g: '  sp'\n  h: 'x;y'\n  'k=': 'a`b'\n  # com\n  # com2\n  \xc3\xa9: 1\n  ab: ''\n"
        b"default:\n  x: 1\n"
    )
    enc = sops("encrypt", "--age", sops.recipient, data=plain, suffix=".yaml")
    theirs = sops("decrypt", "--output-type", "ini", data=enc, suffix=".yaml")
    assert STORE.emit(YamlStore().load(plain).docs, None) == theirs
