"""The unseal split the controller shares with ``kseal unseal``: ``unseal_items`` (decrypt, counting
RSA operations) and ``secret_from_sealed`` (the Secret, template data rendered)."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from kseal import keys, sealed, secret
from kseal.gotemplate import TemplateError

SENTINEL = "SENTINEL-5f3a9c"


@cache
def _keys() -> tuple[Any, Any, Any, bytes]:
    """(public key, its private key, another private key of the same size, the private PEM)."""
    now = datetime.now(UTC)
    (k1, c1), (k2, _c2) = keys.generate(now, bits=2048), keys.generate(now, bits=2048)
    return (
        keys.load_certificate(c1).public_key,
        keys.load_private_key_pem(k1, "a"),
        keys.load_private_key_pem(k2, "b"),
        k1,
    )


def _sealed(
    items: dict[str, bytes] | None = None,
    template_data: dict[str, str] | None = None,
    *,
    fingerprint: str | None = None,
) -> dict[str, Any]:
    public, _right, _wrong, _pem = _keys()
    doc = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "prod", "labels": {"app": "db"}},
        "type": "kubernetes.io/basic-auth",
        "data": {
            k: base64.b64encode(v).decode()
            for k, v in (items if items is not None else {"user": b"admin"}).items()
        },
    }
    ss = secret.seal_secret(doc, public, allow_empty=True, key_fingerprint=fingerprint)
    if template_data is not None:
        ss["spec"]["template"]["data"] = template_data
    return ss


def _counter() -> tuple[list[int], Any]:
    count = [0]

    def on_attempt() -> None:
        count[0] += 1

    return count, on_attempt


def test_unseal_items_decrypts_every_item_to_bytes() -> None:
    _public, right, _wrong, _pem = _keys()
    ss = _sealed({"user": b"admin", "bin": b"\xff\x00\xfe", "empty": b""})
    assert secret.unseal_items(ss, [right]) == {
        "user": b"admin",
        "bin": b"\xff\x00\xfe",
        "empty": b"",
    }


def test_on_attempt_counts_each_rsa_operation_and_the_working_key_moves_first() -> None:
    _public, right, wrong, _pem = _keys()
    ss = _sealed({"a": b"1", "b": b"2", "c": b"3"})
    count, on_attempt = _counter()
    secret.unseal_items(ss, [wrong, right], on_attempt)
    assert count[0] == 4  # wrong + right for the first item, then right first: 1 each


def test_the_sealing_key_annotation_puts_that_key_first() -> None:
    _public, right, wrong, _pem = _keys()
    ss = _sealed({"a": b"1", "b": b"2"}, fingerprint=keys.fingerprint(right.public_key()))
    count, on_attempt = _counter()
    secret.unseal_items(ss, [wrong, right], on_attempt)
    assert count[0] == 2


def test_keys_of_another_size_cost_no_rsa_operation() -> None:
    _public, right, _wrong, _pem = _keys()
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (test only)
    count, on_attempt = _counter()
    secret.unseal_items(_sealed({"a": b"1"}), [small, right], on_attempt)
    assert count[0] == 1


def test_failures_list_every_key_with_the_clis_hints() -> None:
    _public, right, wrong, _pem = _keys()
    ss = _sealed(
        {"b": SENTINEL.encode(), "a": b"x"}, fingerprint=keys.fingerprint(right.public_key())
    )
    with pytest.raises(sealed.UnsealError) as caught:
        secret.unseal_items(ss, [wrong])
    err = caught.value
    assert err.message == "no key could decrypt secret (a, b)"
    assert any("label 'prod/db'" in h for h in err.hints)
    assert "1 private key(s) tried" in err.hints
    assert any(keys.fingerprint(right.public_key()) in h and "not among" in h for h in err.hints)
    assert SENTINEL not in err.message + "".join(err.hints)


def test_a_renamed_sealed_secret_names_the_label_it_was_sealed_for() -> None:
    _public, right, _wrong, _pem = _keys()
    ss = _sealed()
    ss["metadata"]["name"] = "renamed"
    with pytest.raises(sealed.UnsealError) as caught:
        secret.unseal_items(ss, [right])
    assert "likely sealed for the label 'prod/db'" in caught.value.hints[0]


def test_the_deprecated_v1_data_blob_still_unseals() -> None:
    public, right, _wrong, _pem = _keys()
    v1 = {"apiVersion": "v1", "kind": "Secret", "data": {"k": base64.b64encode(b"v1").decode()}}
    blob = sealed.seal(public, json.dumps(v1).encode(), b"prod/db")
    ss = _sealed({})
    ss["spec"] = {"template": ss["spec"]["template"], "data": base64.b64encode(blob).decode()}
    count, on_attempt = _counter()
    assert secret.unseal_items(ss, [right], on_attempt) == {"k": b"v1"}
    assert count[0] == 1
    ss["spec"]["encryptedData"] = {"x": ss["spec"]["data"]}
    with pytest.raises(Exception, match="at the same time"):
        secret.unseal_items(ss, [right])


def test_secret_from_sealed_is_the_template_with_name_and_namespace_forced() -> None:
    ss = _sealed()
    ss["spec"]["template"]["metadata"].update(name="other", namespace="elsewhere")
    ss["spec"]["template"]["immutable"] = True
    out = secret.secret_from_sealed(ss, {"user": b"admin"})
    assert out == {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {"name": "db", "namespace": "prod", "labels": {"app": "db"}},
        "immutable": True,
        "data": {"user": "YWRtaW4="},
        "type": "kubernetes.io/basic-auth",
    }
    assert "ownerReferences" not in out["metadata"]


def test_template_data_is_rendered_over_the_plaintexts_and_wins_over_items() -> None:
    ss = _sealed(
        template_data={
            "user": "{{ .user | upper }}",
            "config.json": '{"u": {{ toJson .user }}, "p": {{ toJson .pass }}}',
            "bin": "{{ .bin }}",
        }
    )
    data = {"user": b"admin", "pass": b"p<&>", "bin": b"\xff\x00"}
    out = secret.secret_from_sealed(ss, data)["data"]
    assert list(out) == sorted(out)
    decoded = {k: base64.b64decode(v) for k, v in out.items()}
    assert decoded == {
        "user": b"ADMIN",
        "pass": b"p<&>",
        "bin": b"\xff\x00",
        "config.json": b'{"u": "admin", "p": "p\\u003c\\u0026\\u003e"}',
    }


def test_template_only_sealed_secrets_are_valid() -> None:
    _public, right, _wrong, _pem = _keys()
    ss = _sealed({}, template_data={"static": "fixed"})
    assert ss["spec"]["encryptedData"] == {}
    out = secret.unseal_sealed_secret(ss, [right])
    assert out["data"] == {"static": base64.b64encode(b"fixed").decode()}


def test_template_errors_name_every_failing_key_never_a_value() -> None:
    ss = _sealed(
        template_data={"b": "{{ .s | sha256sum }}", "a": "{{ if .s }}{{ end }}", "ok": "{{ .s }}"}
    )
    with pytest.raises(TemplateError) as caught:
        secret.secret_from_sealed(ss, {"s": SENTINEL.encode()})
    message = caught.value.message
    assert message.startswith('spec.template.data.a: "if" actions are not supported')
    assert '; spec.template.data.b: function "sha256sum" is not supported by kseal' in message
    assert SENTINEL not in message and "\n" not in message


def test_unseal_sealed_secret_keeps_its_output_for_the_cli() -> None:
    _public, right, _wrong, _pem = _keys()
    ss = _sealed({"user": b"admin"})
    before = copy.deepcopy(ss)
    assert secret.unseal_sealed_secret(ss, [right]) == {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {"name": "db", "namespace": "prod", "labels": {"app": "db"}},
        "data": {"user": "YWRtaW4="},
        "type": "kubernetes.io/basic-auth",
    }
    assert ss == before


def test_kseal_unseal_renders_template_data(tmp_path: Path) -> None:
    _public, _right, _wrong, pem = _keys()
    (tmp_path / "key.pem").write_bytes(pem)
    ss = _sealed({"pass": SENTINEL.encode()}, template_data={"url": "db://{{ .pass }}@host"})
    run = subprocess.run(
        [sys.executable, "-m", "kseal", "unseal", "-k", str(tmp_path / "key.pem"), "-o", "json"],
        input=json.dumps(ss).encode(),
        capture_output=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)["data"]
    assert base64.b64decode(data["url"]).decode() == f"db://{SENTINEL}@host"
    bad = _sealed({"pass": SENTINEL.encode()}, template_data={"url": "{{ .pass | sha256sum }}"})
    run = subprocess.run(
        [sys.executable, "-m", "kseal", "unseal", "-k", str(tmp_path / "key.pem")],
        input=json.dumps(bad).encode(),
        capture_output=True,
        check=False,
    )
    assert run.returncode == 1
    assert b'spec.template.data.url: function "sha256sum" is not supported' in run.stderr
    assert SENTINEL.encode() not in run.stderr + run.stdout


def test_a_template_holding_text_that_is_not_unicode_is_a_template_error() -> None:
    ss = _sealed(template_data={"bad": "x\ud800"})
    with pytest.raises(TemplateError, match=r"^spec\.template\.data\.bad: .*not Unicode$"):
        secret.secret_from_sealed(ss, {"user": b"admin"})
