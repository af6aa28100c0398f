"""The binary store: any bytes in, one ``data`` value; JSON envelope when encrypted."""

from __future__ import annotations

from pathlib import Path

import pytest

from kseal.errors import EmitError
from kseal.sops.stores.binary import BinaryStore
from kseal.sops.tree import Branch, to_plain
from tests.sops_runner import Sops, sops_fixture

VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors" / "sops-repo-pgp"
STORE = BinaryStore()
PAYLOADS = [b"", b"plain text\n", bytes(range(256)), "ünï\r\n✓".encode(), b"\xef\xbb\xbfbom", b"{}"]


sops = sops_fixture(".bin")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_plaintext_is_one_data_value_and_round_trips(payload: bytes) -> None:
    loaded = STORE.load(payload)
    assert loaded.metadata is None and loaded.docs[0].keys_() == ["data"]
    value = loaded.docs[0].get("data")
    assert isinstance(value, str if payload != bytes(range(256)) else bytes)
    assert STORE.emit(loaded.docs, None) == payload


def test_text_keeps_its_byte_order_mark_and_line_endings() -> None:
    assert STORE.load(b"\xef\xbb\xbfa\r\n").docs[0].get("data") == "\ufeffa\r\n"


def test_encrypted_form_is_tab_indented_json_with_metadata_last() -> None:
    doc = Branch([("data", "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]")])
    out = STORE.emit([doc], {"version": "3.11.0"})
    assert out == (
        b'{\n\t"data": "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]",\n'
        b'\t"sops": {\n\t\t"version": "3.11.0"\n\t}\n}\n'
    )
    assert STORE.emit([doc], {"version": "3.11.0"}, indent=4) == out.replace(b"\t", b"    ")
    loaded = STORE.load(out)
    assert loaded.metadata == {"version": "3.11.0"} and loaded.docs == [doc]


@pytest.mark.parametrize(
    "payload",
    [b'{"data": "x"}', b'{"sops": {"version": "1"}}', b'{"data": "x", "sops": "no"}', b'{"sops" '],
)
def test_json_that_is_not_a_sops_envelope_is_plain_data(payload: bytes) -> None:
    loaded = STORE.load(payload)
    assert loaded.metadata is None and to_plain(loaded.docs[0]) == {"data": payload.decode()}


def test_what_cannot_be_written_raw() -> None:
    with pytest.raises(EmitError):
        STORE.emit([Branch([("other", "x")])], None)
    with pytest.raises(EmitError):
        STORE.emit([Branch([("data", Branch())])], None)
    with pytest.raises(EmitError):
        STORE.emit([Branch([("data", "a")]), Branch([("data", "b")])], None)
    with pytest.raises(EmitError):
        STORE.emit_value("x")


def test_sops_repo_vector() -> None:
    path = VECTORS / "example.txt"
    if not path.exists():
        pytest.skip("the shared sops vectors are not available")
    data = path.read_bytes()  # sops 3.5.0, no final newline
    loaded = STORE.load(data)
    assert loaded.metadata is not None and len(loaded.metadata["pgp"]) == 2
    data_value = loaded.docs[0].get("data")
    assert isinstance(data_value, str) and data_value.startswith("ENC[AES256_GCM,")
    assert STORE.emit(loaded.docs, loaded.metadata) == data + b"\n"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sops_encrypted_binary_loads_and_re_emits_byte_for_byte(sops: Sops, payload: bytes) -> None:
    enc = sops("encrypt", "--age", sops.recipient, data=payload)
    loaded = STORE.load(enc)
    md = loaded.metadata
    assert md is not None and [a["recipient"] for a in md["age"]] == [sops.recipient]
    assert loaded.docs[0].keys_() == ["data"]
    assert STORE.emit(loaded.docs, md) == enc
    assert sops("decrypt", data=enc) == STORE.emit(STORE.load(payload).docs, None) == payload
