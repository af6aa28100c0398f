"""Findings and the rule catalogue of ``kseal check``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    summary: str
    hint: str
    level: str = "error"  # or "warning": reported, never fails the check


RULES = {
    r.id: r
    for r in (
        Rule(
            "KS101",
            "secret-plaintext",
            "Kubernetes Secret with plaintext data",
            "encrypt it: kseal encrypt -i FILE (or seal it: kseal seal)",
        ),
        Rule(
            "KS102",
            "helm-secret-literal",
            "Secret in a Helm template with literal values",
            "take the values from .Values and keep those encrypted (kseal encrypt values file)",
        ),
        Rule(
            "KS103",
            "kustomize-secret-generator",
            "kustomize secretGenerator with plaintext input",
            "encrypt the referenced file (ksops/sops), or generate the Secret elsewhere",
        ),
        Rule(
            "KS201",
            "sops-rule-unencrypted",
            ".sops.yaml says this file must be encrypted",
            "kseal encrypt -i FILE (uses the matching .sops.yaml rule)",
        ),
        Rule(
            "KS202",
            "sops-partial",
            "SOPS file with values its rule says must be encrypted",
            "kseal decrypt -i --ignore-mac FILE && kseal encrypt -i FILE",
        ),
        Rule(
            "KS203",
            "sops-mac",
            "SOPS file whose MAC does not verify",
            "the file was edited without re-encryption; check it, then kseal edit it",
        ),
        Rule(
            "KS204",
            "sops-metadata",
            "SOPS metadata is broken",
            "restore the file from Git history or re-encrypt it from plaintext",
        ),
        Rule(
            "KS301",
            "private-key",
            "private key (PEM or OpenSSH)",
            "never commit private keys; encrypt the file or remove the key",
        ),
        Rule(
            "KS302",
            "age-identity",
            "age identity (AGE-SECRET-KEY-1...)",
            "never commit age identities; share the public key (kseal keygen -y)",
        ),
        Rule(
            "KS303",
            "sealing-key-backup",
            "TLS key Secret (a sealing-key backup?) in plaintext",
            "keep controller key backups out of Git, or encrypt them with kseal encrypt",
        ),
        Rule(
            "KS304",
            "kubeconfig-credentials",
            "kubeconfig with embedded credentials",
            "use an exec plugin or keep the kubeconfig out of Git (kseal encrypt it)",
        ),
        Rule(
            "KS305",
            "kseal-temp-file",
            "temporary file left by a killed kseal run (it may hold plaintext)",
            "delete it and keep it out of Git; the next kseal write in its directory removes it",
        ),
        Rule(
            "KS401",
            "sealed-scope-mismatch",
            "SealedSecret values do not open under its metadata",
            "it was renamed, moved or re-scoped after sealing: re-seal it (kseal seal)",
        ),
        Rule(
            "KS402",
            "sealed-scope-in-template",
            "scope annotation only in spec.template",
            "put the sealedsecrets.bitnami.com scope annotation in metadata.annotations",
            level="warning",
        ),
    )
}
BY_NAME = {r.name: r.id for r in RULES.values()}


@dataclass(frozen=True)
class Finding:
    rule: str
    path: str
    line: int
    col: int
    message: str
    locator: str = ""  # what was found, without its value (e.g. "Secret/ns/db data.password")
    extra_hints: tuple[str, ...] = field(default=())

    @property
    def level(self) -> str:
        return RULES[self.rule].level

    @property
    def fingerprint(self) -> str:
        """Stable across line moves; built from names, never from secret values."""
        text = f"{self.rule}\0{self.path}\0{self.locator or self.line}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def text(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.rule} {self.message}"
