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
    finds: str  # what the rule finds, in full: the rule table of docs/check.md
    level: str = "error"  # or "warning": reported, never fails the check


RULES = {
    r.id: r
    for r in (
        Rule(
            "KS101",
            "secret-plaintext",
            "Kubernetes Secret with plaintext data",
            "encrypt it: kseal encrypt -i FILE (or seal it: kseal seal)",
            "a `kind: Secret` (any case) with non-empty `data`/`stringData` string values that are not `ENC[...]` or [templated](#templated-values); in YAML (multi-document, `kind: List`, nested Lists) and JSON (objects and arrays of manifests), also written as a string inside another document (a Secret in a ConfigMap's data)",
        ),
        Rule(
            "KS102",
            "helm-secret-literal",
            "Secret in a Helm template with literal values",
            "take the values from .Values and keep those encrypted (kseal encrypt values file)",
            "a Secret in a Helm chart template (`templates/`) whose values are literals rather than `{{ ... }}`",
        ),
        Rule(
            "KS103",
            "kustomize-secret-generator",
            "kustomize secretGenerator with plaintext input",
            "encrypt the referenced file (ksops/sops), or generate the Secret elsewhere",
            "a `secretGenerator` with `literals`, or `envs`/`files` pointing at files that are not SOPS-encrypted",
        ),
        Rule(
            "KS201",
            "sops-rule-unencrypted",
            ".sops.yaml says this file must be encrypted",
            "kseal encrypt -i FILE (uses the matching .sops.yaml rule)",
            "a file that a `.sops.yaml` rule with a `path_regex` matches, holding values the rule would encrypt, but not encrypted. Never required to be: Secrets (KS101 covers them), the built-in Kubernetes kinds (core `v1`, `apps`, `batch`, `autoscaling`, `policy`, `*.k8s.io`: ConfigMap, Deployment, Service...), resources of secret-reference operators (SealedSecret, ExternalSecret, SecretProviderClass, Vault and 1Password operators), and tool configuration (`.sops.yaml`, `kustomization.yaml`, `Chart.yaml`, `.github/`...), so the Flux layout and broad `.*\\.yaml` rules work. Custom resources are checked: they can carry credentials",
        ),
        Rule(
            "KS202",
            "sops-partial",
            "SOPS file with values its rule says must be encrypted",
            "kseal decrypt -i --ignore-mac FILE && kseal encrypt -i FILE",
            "a SOPS file with values its `.sops.yaml` rule (or, when no rule matches, its own metadata; the message says which) says must be encrypted, in the clear; `encrypted_regex` and the other selection rules are honoured. Fix: `kseal decrypt -i --ignore-mac FILE && kseal encrypt -i FILE`",
        ),
        Rule(
            "KS203",
            "sops-mac",
            "SOPS file whose MAC does not verify",
            "the file was edited without re-encryption; check it, then kseal edit it",
            "with `--verify-mac`: a SOPS file you hold a key for whose MAC does not verify (edited or merged without re-encryption)",
        ),
        Rule(
            "KS204",
            "sops-metadata",
            "SOPS metadata is broken",
            "restore the file from Git history or re-encrypt it from plaintext",
            "a `sops` block that cannot be read",
        ),
        Rule(
            "KS301",
            "private-key",
            "private key (PEM or OpenSSH)",
            "never commit private keys; encrypt the file or remove the key",
            "PEM (RSA, EC, DSA, PKCS#8, encrypted, PGP) and OpenSSH private keys in any file, also base64-encoded (a PEM file encoded whole, as in a values file or a ConfigMap)",
        ),
        Rule(
            "KS302",
            "age-identity",
            "age identity (AGE-SECRET-KEY-1...)",
            "never commit age identities; share the public key (kseal keygen -y)",
            "`AGE-SECRET-KEY-1...` (and age plugin identities) in any file",
        ),
        Rule(
            "KS303",
            "sealing-key-backup",
            "TLS key Secret (a sealing-key backup?) in plaintext",
            "keep controller key backups out of Git, or encrypt them with kseal encrypt",
            "a `kubernetes.io/tls` Secret (or a labelled sealed-secrets key backup) with a plaintext `tls.key`",
        ),
        Rule(
            "KS304",
            "kubeconfig-credentials",
            "kubeconfig with embedded credentials",
            "use an exec plugin or keep the kubeconfig out of Git (kseal encrypt it)",
            "a kubeconfig whose users embed `client-key-data`, `token` or `password`",
        ),
        Rule(
            "KS305",
            "kseal-temp-file",
            "temporary file left by a killed kseal run (it may hold plaintext)",
            "delete it and keep it out of Git; the next kseal write in its directory removes it",
            "a `.NAME.kseal-tmp-PID-XXXX` file: the temporary file of a kseal write that was killed before its rename (only where the file system has no nameless temporary files), which may hold the whole plaintext of a `decrypt -i`; flagged whatever it holds",
        ),
        Rule(
            "KS401",
            "sealed-scope-mismatch",
            "SealedSecret values do not open under its metadata",
            "it was renamed, moved or re-scoped after sealing: re-seal it (kseal seal)",
            "with `--sealing-key`: a SealedSecret whose values no longer open under the label its metadata gives (a strict-scope one renamed or moved to another namespace: the controller would refuse it)",
        ),
        Rule(
            "KS402",
            "sealed-scope-in-template",
            "scope annotation only in spec.template",
            "put the sealedsecrets.bitnami.com scope annotation in metadata.annotations",
            "warning: a scope annotation only in `spec.template.metadata`, where the controller does not read it",
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
