"""The dotenv store (sops's exact line rules) and the flat metadata spelling it shares with INI."""

from __future__ import annotations

from pathlib import Path

import pytest

from kseal.errors import EmitError, InputError, MetadataError
from kseal.sops.stores.dotenv import DotenvStore
from kseal.sops.stores.flatten import flatten, unflatten, val_to_string
from kseal.sops.tree import Branch, Comment, Timestamp
from tests.sops_runner import Sops, sops_fixture

VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors" / "sops-repo-pgp"
STORE = DotenvStore()


sops = sops_fixture(".env")


def items(data: bytes) -> list[tuple[object, object]]:
    return list(STORE.load(data).docs[0])


# ---- reading --------------------------------------------------------------------------------------


def test_key_and_value_are_split_at_the_first_equals_sign_untrimmed() -> None:
    assert items(b"foo = bar\nA==b=c\n=empty-key\n") == [
        ("foo ", " bar"),
        ("A", "=b=c"),
        ("", "empty-key"),
    ]


def test_quotes_are_kept_and_only_newline_escapes_are_decoded() -> None:
    assert items(b"A=\"q\"\nB='s'\nC=a\\nb\\tc\nexport D=1\n") == [
        ("A", '"q"'),
        ("B", "'s'"),
        ("C", "a\nb\\tc"),
        ("export D", "1"),
    ]


def test_lines_split_on_newline_only() -> None:
    assert items(b"A=x\r\n\n\nB=y\r\n") == [("A", "x\r"), ("B", "y\r")]
    assert items(b"\xef\xbb\xbfA=1") == [("\ufeffA", "1")]  # sops keeps a BOM in the first key


def test_comments_are_items_with_the_text_after_the_hash() -> None:
    assert items(b"# one\n#two\nA=1\n#\n") == [
        (Comment(" one"), None),
        (Comment("two"), None),
        ("A", "1"),
        (Comment(""), None),
    ]


def test_repeated_keys_are_kept_and_non_utf8_values_are_bytes() -> None:
    assert items(b"A=1\nA=2\nB=\xff\n") == [("A", "1"), ("A", "2"), ("B", b"\xff")]


def test_a_line_without_equals_is_an_error_naming_only_its_number() -> None:
    with pytest.raises(InputError) as info:
        STORE.load(b"A=1\n\nsupersecretvalue\n")
    assert "line 3" in info.value.message and "supersecret" not in info.value.message
    with pytest.raises(InputError, match="line 1"):
        STORE.load(b"A\xff=1\n")


def test_sops_keys_are_the_metadata() -> None:
    loaded = STORE.load(
        b"A=1\n#c\nsops_age__list_0__map_enc=-----BEGIN-----\\nxyz\\n-----END-----\\n\n"
        b"sops_age__list_0__map_recipient=age1x\nsops_lastmodified=2024-01-01T00:00:00Z\n"
        b"sops_shamir_threshold=2\nsops_mac_only_encrypted=true\n"
    )
    assert list(loaded.docs[0]) == [("A", "1"), (Comment("c"), None)]
    assert loaded.metadata == {
        "age": [{"enc": "-----BEGIN-----\nxyz\n-----END-----\n", "recipient": "age1x"}],
        "lastmodified": "2024-01-01T00:00:00Z",
        "shamir_threshold": "2",
        "mac_only_encrypted": "true",
    }
    assert STORE.load(b"sops_anything=1\n").metadata == {"anything": "1"}
    assert STORE.load(b"A=1\n").metadata is None


# ---- writing --------------------------------------------------------------------------------------


def test_emit_lines_and_metadata_sorted_after_the_data() -> None:
    doc = Branch([("B", "x\ny"), (Comment(" note"), None), ("A", b"\xff\n")])
    metadata = {"version": "3.11.0", "age": [{"recipient": "r", "enc": "E\nF\n"}], "kms": []}
    assert STORE.emit([doc], metadata) == (
        b"B=x\\ny\n# note\nA=\xff\\n\n"
        b"sops_age__list_0__map_enc=E\\nF\\n\nsops_age__list_0__map_recipient=r\n"
        b"sops_version=3.11.0\n"
    )


def test_non_string_values_use_go_val_to_string() -> None:
    values = [1.0, 1e6, 123456.0, 1234567.0, 0.1, 1e-5, -0.0, float("nan"), float("-inf"), 42]
    values += [True, None, Timestamp("2024-01-01T01:02:03.5+01:00")]
    assert [val_to_string(v) for v in values] == [
        "1.0", "1E+06", "123456.0", "1.234567E+06", "0.1", "1E-05", "-0.0", "NaN", "-Inf", "42",
        "true", "<nil>", "2024-01-01T01:02:03+01:00",
    ]  # fmt: skip


def test_nested_values_cannot_be_written() -> None:
    with pytest.raises(EmitError, match="'db'"):
        STORE.emit([Branch([("db", Branch([("user", "u")]))])], None)
    with pytest.raises(EmitError):
        STORE.emit([Branch(), Branch()], None)


def test_extract_output_like_sops() -> None:
    assert STORE.emit_value("a\nb") == b"a\nb"
    assert STORE.emit_value(Branch([("k", "v")])) == b"k=v\n"
    with pytest.raises(EmitError):
        STORE.emit_value(25)


@pytest.mark.parametrize("text", [b"A=1\n", b"#c\nfoo = bar\nB='q'\nC=a\\nb\nA=2\n", b""])
def test_canonical_plaintext_round_trips(text: bytes) -> None:
    assert STORE.emit(STORE.load(text).docs, None) == text


# ---- flat metadata --------------------------------------------------------------------------------


def test_flatten_and_unflatten_are_inverse() -> None:
    metadata = {
        "key_groups": [{"hc_vault": [], "age": [{"recipient": "a", "enc": "b"}]}, {"age": []}],
        "shamir_threshold": 2,
        "mac_only_encrypted": True,
        "kms": None,
    }
    flat = flatten(metadata)
    assert flat == [
        ("key_groups__list_0__map_age__list_0__map_recipient", "a"),
        ("key_groups__list_0__map_age__list_0__map_enc", "b"),
        ("shamir_threshold", "2"),
        ("mac_only_encrypted", "true"),
    ]
    assert unflatten(flat) == {
        "key_groups": [{"age": [{"recipient": "a", "enc": "b"}]}],
        "shamir_threshold": "2",
        "mac_only_encrypted": "true",
    }
    assert unflatten([("pgp__list_1__map_fp", "y"), ("pgp__list_0__map_fp", "x")]) == {
        "pgp": [{"fp": "x"}, {"fp": "y"}]
    }


@pytest.mark.parametrize(
    "pairs",
    [
        [("age__list_x__map_enc", "1")],
        [("age__list_99999999__map_enc", "1")],
        [("age", "1"), ("age__list_0__map_enc", "2")],
        [("age__list_0__map_enc", "2"), ("age__map_enc", "1")],
    ],
)
def test_unflatten_rejects_malformed_keys(pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(MetadataError):
        unflatten(pairs)


# ---- files written by sops ------------------------------------------------------------------------


def test_sops_repo_vector_round_trips_byte_for_byte() -> None:
    path = VECTORS / "functional-tests_res_format.enc.env"
    if not path.exists():
        pytest.skip("the shared sops vectors are not available")
    data = path.read_bytes()  # sops 3.13.1; its key is "foo " (sops does not trim)
    loaded = STORE.load(data)
    assert loaded.docs[0].keys_() == ["foo "]
    assert loaded.metadata is not None and loaded.metadata["version"] == "3.13.1"
    assert loaded.metadata["pgp"][0]["enc"].endswith("-----END PGP MESSAGE-----")
    assert STORE.emit(loaded.docs, loaded.metadata) == data


SOPS_INPUTS = [
    b"A=1\n",
    b"#comment\nfoo = bar\nB='quoted'\nC=a\\nb\n# spaced comment\nD=\n",
    b"A=x\r\n\n\nA=dup\nX_unencrypted=plain\nE=\xc3\xa9\xff\n",
    b"\xef\xbb\xbfBOM=1\n#",
]


@pytest.mark.parametrize("plain", SOPS_INPUTS)
def test_sops_encrypted_dotenv_loads_and_re_emits_byte_for_byte(sops: Sops, plain: bytes) -> None:
    enc = sops("encrypt", "--age", sops.recipient, data=plain)
    loaded = STORE.load(enc)
    want = STORE.load(plain).docs[0]
    assert [k if isinstance(k, str) else "#" for k, _ in loaded.docs[0]] == [
        k if isinstance(k, str) else "#" for k, _ in want
    ]
    md = loaded.metadata
    assert md is not None and md["age"] == [
        {"enc": md["age"][0]["enc"], "recipient": sops.recipient}
    ]
    assert md["age"][0]["enc"].startswith("-----BEGIN AGE ENCRYPTED FILE-----\n")
    assert set(md) == {"age", "lastmodified", "mac", "unencrypted_suffix", "version"}
    assert STORE.emit(loaded.docs, md) == enc
    assert sops("decrypt", data=enc) == STORE.emit([want], None)


def test_conversion_from_yaml_writes_values_like_sops(sops: Sops) -> None:
    from kseal.sops.stores.yaml_store import YamlStore

    plain = (
        b"a: 1.0\nb: 1e6\nc: 123456.0\nd: true\ne: null\nf: 2024-01-01T01:02:03.5+01:00\n"
        b"g: 0.1\nh: 42\ni: 1234567.0\nj: .nan\nk: -.inf\nl: 0.00001\n# comment\nm: ''\n"
    )
    enc = sops("encrypt", "--age", sops.recipient, data=plain, suffix=".yaml")
    theirs = sops("decrypt", "--output-type", "dotenv", data=enc, suffix=".yaml")
    assert STORE.emit(YamlStore().load(plain).docs, None) == theirs
