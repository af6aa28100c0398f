"""Metadata: tolerant reading of every sops layout, writing in sops 3.11's order."""

from __future__ import annotations

import pytest

from kseal.errors import MetadataError
from kseal.sops.metadata import AgeKey, KeyGroup, Metadata, from_plain
from kseal.sops.rules import Rules

ENC = "-----BEGIN AGE ENCRYPTED FILE-----\nx\n-----END AGE ENCRYPTED FILE-----\n"


def test_sops_3_9_layout_with_empty_lists() -> None:
    raw = {
        "kms": [],
        "gcp_kms": [],
        "azure_kv": [],
        "hc_vault": [],
        "age": [{"recipient": " age1abc ", "enc": ENC}],
        "lastmodified": "2021-04-06T09:07:05.123Z",
        "mac": "ENC[...]",
        "pgp": [],
        "encrypted_regex": "^(data|stringData)$",
        "version": "3.7.0",
    }
    meta = from_plain(raw)
    assert meta.age_keys == [AgeKey("age1abc", ENC)]
    assert meta.lastmodified == "2021-04-06T09:07:05Z"  # Go re-formats: fraction dropped
    assert meta.rules == Rules(encrypted_regex="^(data|stringData)$")


def test_json_nulls_and_3_13_alphabetical_order() -> None:
    raw = {
        "age": [{"enc": ENC, "recipient": "age1abc"}],
        "kms": None,
        "lastmodified": "2024-01-01T00:00:00+02:00",
        "mac": "m",
        "mac_only_encrypted": True,
        "unencrypted_suffix": "_unencrypted",
        "version": "3.13.2",
    }
    meta = from_plain(raw)
    assert meta.rules.mac_only_encrypted
    assert meta.lastmodified == "2024-01-01T00:00:00+02:00"


def test_dotenv_strings_are_coerced() -> None:
    raw = {
        "key_groups": [
            {"age": [{"recipient": "a", "enc": ENC}]},
            {"age": [{"recipient": "b", "enc": ENC}]},
        ],
        "shamir_threshold": "2.0",
        "mac_only_encrypted": "true",
        "lastmodified": "2024-01-01T00:00:00Z",
        "mac": "m",
        "version": "3.10.0",
    }
    meta = from_plain(raw)
    assert meta.shamir_threshold == 2 and len(meta.groups) == 2 and meta.rules.mac_only_encrypted


def test_other_key_sources_survive_a_rewrite() -> None:
    pgp = [{"created_at": "2024-01-01T00:00:00Z", "enc": "-----BEGIN PGP", "fp": "ABC"}]
    meta = from_plain(
        {
            "pgp": pgp,
            "age": [{"recipient": "a", "enc": ENC}],
            "lastmodified": "2024-01-01T00:00:00Z",
            "mac": "m",
            "version": "3.11.0",
        }
    )
    assert meta.to_plain()["pgp"] == pgp


def test_written_in_sops_3_11_order() -> None:
    meta = Metadata(
        [KeyGroup(age=[AgeKey("age1a", ENC)])],
        "2024-01-01T00:00:00Z",
        "m",
        Rules(unencrypted_suffix="_unencrypted", mac_only_encrypted=True),
    )
    assert list(meta.to_plain()) == [
        "age",
        "lastmodified",
        "mac",
        "unencrypted_suffix",
        "mac_only_encrypted",
        "version",
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "not found"),
        ({"lastmodified": "2024-01-01T00:00:00Z", "mac": "m"}, "no keys"),
        ({"age": [{"recipient": "a", "enc": ENC}], "lastmodified": "yesterday"}, "RFC3339"),
        ({"age": "nope", "lastmodified": "2024-01-01T00:00:00Z"}, "must be a list"),
    ],
)
def test_malformed(raw: object, message: str) -> None:
    with pytest.raises(MetadataError, match=message):
        from_plain(raw)
