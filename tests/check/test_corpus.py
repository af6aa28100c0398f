"""A table of positives and negatives for every ``kseal check`` rule, scanned as bytes."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kseal import agekey
from kseal.check.scan import Options, scan_bytes
from kseal.sops import engine
from kseal.sops.config import load_config
from kseal.sops.rules import Rules
from kseal.sops.stores import get_store

SECRET_KEY, PUBLIC = agekey.generate_identity()
PQ_SECRET_KEY = agekey.generate_identity(pq=True)[0]
SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
type: Opaque
stringData:
  password: hunter2
"""
FLUX_RULES = Rules(encrypted_regex="^(data|stringData)$")


def _enc(text: str, fmt: str = "yaml", rules: Rules | None = None) -> str:
    store = get_store(fmt)
    out = engine.encrypt(
        text.encode(),
        store,
        store,
        engine.EncryptOptions([PUBLIC], rules or Rules()),
        wrap=agekey.wrap_key,
        random=os.urandom,
        now=datetime.now(UTC),
    )
    return out.decode()


def _pem(kind: str, body: str) -> str:
    """A PEM block built at run time, so no key-shaped text sits in this file (the bodies are
    random bytes, not keys)."""
    label = f"{kind} PRIVATE" + " KEY"
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


PEM_KEY = _pem("RSA", base64.b64encode(os.urandom(48)).decode())
SSH_KEY = _pem("OPENSSH", base64.b64encode(os.urandom(48)).decode())


def _indented(text: str, prefix: str = "    ") -> str:
    return "".join(prefix + line + "\n" for line in text.splitlines())


def _bom(text: str, codec: str) -> bytes:
    return ("\ufeff" + text).encode(codec)


B64_PEM_KEY = base64.b64encode(PEM_KEY.encode()).decode()
# nine levels of nine aliases: 9**9 leaves when expanded, a few dozen nodes when shared
ALIAS_BOMB = "".join(
    f"- &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else ', '.join('x' * 9)}]\n" for i in range(9)
)
CUSTOM_RESOURCE = """\
apiVersion: db.example.com/v1
kind: DatabaseCredentials
metadata: {name: db}
spec:
  user: app
  password: hunter2
"""

# name -> (path, content, expected rule ids)
CASES: dict[str, tuple[str, str | bytes, set[str]]] = {
    # ---- plaintext Secrets ----
    "secret-yaml": ("k8s/secret.yaml", SECRET, {"KS101"}),
    "secret-yml": ("k8s/secret.yml", SECRET, {"KS101"}),
    "secret-data-base64": (
        "s.yaml",
        SECRET.replace("stringData:\n  password: hunter2", "data:\n  password: aHVudGVyMg=="),
        {"KS101"},
    ),
    "secret-lowercase-kind": ("s.yaml", SECRET.replace("kind: Secret", "kind: secret"), {"KS101"}),
    "secret-second-document": (
        "multi.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n---\n" + SECRET,
        {"KS101"},
    ),
    "secret-json": (
        "s.json",
        '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"k": "dg=="}}',
        {"KS101"},
    ),
    "secret-json-array": (
        "all.json",
        '[{"kind": "ConfigMap", "data": {"a": "b"}}, {"apiVersion": "v1", "kind": "Secret", "stringData": {"k": "v"}}]',
        {"KS101"},
    ),
    "secret-in-list": (
        "list.yaml",
        "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Secret\n    metadata: {name: x}\n    stringData: {k: v}\n",
        {"KS101"},
    ),
    "tls-key-backup": (
        "backup.yaml",
        "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata:\n  name: sealed-secrets-key\n  labels:\n    sealedsecrets.bitnami.com/sealed-secrets-key: active\ndata:\n  tls.crt: Y2VydA==\n  tls.key: a2V5\n",
        {"KS303"},
    ),
    # ---- Helm and kustomize ----
    "helm-literal": (
        "chart/templates/secret.yaml",
        "{{- if .Values.enabled }}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}\nstringData:\n  password: hunter2\n  user: {{ .Values.user }}\n{{- end }}\n",
        {"KS102"},
    ),
    "helm-templated": (
        "chart/templates/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  password: {{ .Values.password | b64enc | quote }}\n",
        set(),
    ),
    "kustomize-literal": (
        "overlay/kustomization.yaml",
        "secretGenerator:\n  - name: db\n    literals:\n      - password=hunter2\n      - empty=\n",
        {"KS103"},
    ),
    "kustomize-env-plain": (
        "overlay/kustomization.yaml",
        "secretGenerator:\n  - name: db\n    envs: [db.env]\n",
        {"KS103"},
    ),
    "kustomize-env-encrypted": (
        "enc/kustomization.yaml",
        "secretGenerator:\n  - name: db\n    envs: [db.env]\n",
        set(),
    ),
    # ---- key material ----
    "pem-private-key": ("notes/key.pem", PEM_KEY, {"KS301"}),
    "openssh-key-in-text": ("README.txt", "my key:\n" + SSH_KEY, {"KS301"}),
    "age-identity": (
        "keys.txt",
        f"# created: now\n{SECRET_KEY}\n",  # generated at run time
        {"KS302"},
    ),
    "age-pq-identity": ("pq-keys.txt", f"# created: now\n{PQ_SECRET_KEY}\n", {"KS302"}),
    "kubeconfig-credentials": (
        "kubeconfig.yaml",
        "apiVersion: v1\nkind: Config\nusers:\n  - name: admin\n    user:\n      client-key-data: LS0tLS1CRUdJTg==\n  - name: ci\n    user:\n      token: abc.def\n",
        {"KS304"},
    ),
    # ---- SealedSecrets ----
    "sealed-scope-in-template": (
        "sealed.yaml",
        'apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: x, namespace: y}\nspec:\n  encryptedData: {k: AgBy}\n  template:\n    metadata:\n      annotations:\n        sealedsecrets.bitnami.com/cluster-wide: "true"\n',
        {"KS402"},
    ),
    # ---- never flagged ----
    "sealed-secret": (
        "sealed-ok.yaml",
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: prod}\nspec:\n  encryptedData:\n    password: AgBy3i4OJSWK+PiTySYZZA==\n  template:\n    metadata: {name: db, namespace: prod}\n",
        set(),
    ),
    "external-secret": (
        "es.yaml",
        "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata: {name: db}\nspec:\n  data:\n    - secretKey: password\n      remoteRef: {key: prod/db}\n",
        set(),
    ),
    "empty-secret": (
        "empty.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: e}\ndata: {}\nstringData:\n",
        set(),
    ),
    "sa-token-secret": (
        "sa.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: t\n  annotations: {kubernetes.io/service-account.name: default}\ntype: kubernetes.io/service-account-token\n",
        set(),
    ),
    "templated-values": (
        "env.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: t}\nstringData:\n  a: ${DB_PASSWORD}\n  b: '{{ .password }}'\n",
        set(),
    ),
    "placeholder-values": (
        "avp.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: t\n  annotations: {avp.kubernetes.io/path: secret/db}\n"
        "stringData:\n  a: <password>\n  b: <path:secret/data/db#password>\n  c: ref+vault://db/password\n",
        set(),
    ),
    "configmap": (
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  password: not-a-secret-by-kind\n",
        set(),
    ),
    "deployment-env": (
        "deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          env:\n            - name: PASSWORD\n              valueFrom: {secretKeyRef: {name: db, key: password}}\n",
        set(),
    ),
    "certificate-only": (
        "tls.crt",
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n",
        set(),
    ),
    "pem-placeholder-in-docs": (
        "docs/howto.md",
        "Paste it like this:\n" + _pem("RSA", "..."),
        set(),
    ),
    "age-recipients": (
        ".sops.yaml",
        "creation_rules:\n  - path_regex: .*.yaml\n    encrypted_regex: ^(data|stringData)$\n    age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n",
        set(),
    ),
    "inline-allow": (
        "allowed.yaml",
        SECRET.replace("stringData:", "stringData:  # kseal:allow KS101 test fixture"),
        set(),
    ),
    "inline-allow-other-rule": (
        "allowed2.yaml",
        SECRET.replace("stringData:", "stringData:  # kseal:allow private-key"),
        {"KS101"},
    ),
    "inline-allow-line-above": (
        "allowed3.yaml",
        SECRET.replace("stringData:", "# kseal:allow secret-plaintext\nstringData:"),
        set(),
    ),
    "json-no-secret": ("package.json", '{"name": "x", "scripts": {"test": "pytest"}}', set()),
    "binary-file": ("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0" + os.urandom(64) + b"sops", set()),
    # ---- issue 9, item 21: templates outside a chart are templated, not plaintext ----
    "helm-b64enc-outside-chart": (
        "deploy/secret.yaml",
        SECRET.replace("hunter2", "{{ .Values.password | b64enc | quote }}"),
        set(),
    ),
    "data-value-not-a-string": (
        "deploy/secret2.yaml",
        SECRET.replace("hunter2", "{from: vault}"),
        set(),
    ),
    # ---- issue 9, item 22: KS201 exempts built-in kinds only ----
    "sops-rule-custom-resource": ("secrets/db-credentials.yaml", CUSTOM_RESOURCE, {"KS201"}),
    "sops-rule-builtin-deployment": (
        "secrets/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  password: x\n",
        set(),
    ),
    "sops-rule-sealed-secret": (
        "secrets/sealed.yaml",
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\n"
        "spec:\n  encryptedData:\n    password: AgBy3i4OJSWK+PiTySYZZA==\n",
        set(),
    ),
    # ---- issue 9, item 27: evasions ----
    "evasion-later-document-broken": (
        "later.yaml",
        SECRET + "---\nnot: [valid\n",
        {"KS101"},
    ),
    "evasion-broken-after-the-value": (
        "tail.yaml",
        SECRET + "  other: [unclosed\n",
        {"KS101"},
    ),
    "evasion-broken-after-the-value-flow": (
        "tail2.yaml",
        SECRET.replace("  password: hunter2", "  password: hunter2\n  x: {a: 1\n  y: ]"),
        {"KS101"},
    ),
    "evasion-earlier-document-broken": ("earlier.yaml", "not: [valid\n---\n" + SECRET, {"KS101"}),
    "evasion-nul-byte": ("nul.yaml", "# \0\n" + SECRET, {"KS101"}),
    "evasion-nul-byte-in-value": ("nul2.yaml", SECRET.replace("hunter2", "hunt\0er2"), {"KS101"}),
    "evasion-nul-byte-key-file": ("id_rsa", "\0" + PEM_KEY, {"KS301"}),
    "evasion-utf16le-bom": ("u16.yaml", _bom(SECRET, "utf-16-le"), {"KS101"}),
    "evasion-utf16be-bom": (
        "u16be.json",
        _bom('{"kind": "Secret", "data": {"k": "dg=="}}', "utf-16-be"),
        {"KS101"},
    ),
    "evasion-utf16-pem": ("key.txt", _bom(PEM_KEY, "utf-16-le"), {"KS301"}),
    "evasion-utf32-bom": ("u32.yaml", _bom(SECRET, "utf-32-le"), {"KS101"}),
    "evasion-utf8-bom": ("u8.yaml", _bom(SECRET, "utf-8"), {"KS101"}),
    "evasion-yml-j2": (
        "roles/db/templates/secret.yml.j2",
        "{% if db_enabled %}\n"
        + SECRET.replace("name: db", "name: {{ db_name }}")
        + "{% endif %}\n",
        {"KS102"},  # under templates/: a template's literal
    ),
    "evasion-yml-j2-outside-templates": ("deploy/secret.yml.j2", "{# db #}\n" + SECRET, {"KS101"}),
    "evasion-yaml-tpl": ("deploy/secret.yaml.tpl", SECRET, {"KS101"}),
    "evasion-yaml-gotmpl": ("helmfile.d/secret.yaml.gotmpl", SECRET, {"KS101"}),
    "evasion-bak": ("k8s/secret.yaml.bak", SECRET, {"KS101"}),
    "evasion-json-orig": (
        "k8s/secret.json.orig",
        '{"kind": "Secret", "stringData": {"k": "v"}}',
        {"KS101"},
    ),
    "evasion-nested-list": (
        "nested.yaml",
        "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: List\n    items:\n"
        "      - apiVersion: v1\n        kind: Secret\n        metadata: {name: db}\n"
        "        stringData: {password: hunter2}\n",
        {"KS101"},
    ),
    "evasion-duplicate-kind": (
        "dup-kind.yaml",
        SECRET.replace("kind: Secret", "kind: ConfigMap\nkind: Secret"),
        {"KS101"},
    ),
    "evasion-duplicate-data": (
        "dup-data.yaml",
        SECRET.replace("stringData:", "stringData: {}\nstringData:"),
        {"KS101"},
    ),
    "evasion-duplicate-value": (
        "dup-value.yaml",
        SECRET.replace("  password: hunter2", "  password: ${DB_PASSWORD}\n  password: hunter2"),
        {"KS101"},
    ),
    "duplicate-kind-last-wins": (
        "dup-kind2.yaml",
        SECRET.replace("kind: Secret", "kind: Secret\nkind: ConfigMap"),
        set(),
    ),
    "evasion-secret-in-configmap": (
        "cm-embed.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  secret.yaml: |\n"
        + _indented(SECRET),
        {"KS101"},
    ),
    "evasion-secret-json-in-configmap": (
        "cm-embed2.yaml",
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  s.json: '"
        '{"apiVersion": "v1", "kind": "Secret", "stringData": {"k": "v"}}\'\n',
        {"KS101"},
    ),
    "evasion-base64-key-in-configmap": (
        "cm-key.yaml",
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  key: {B64_PEM_KEY}\n",
        {"KS301"},
    ),
    "evasion-base64-key-wrapped": (
        "values.yaml",
        "tls:\n  key: |\n"
        + _indented("\n".join(B64_PEM_KEY[i : i + 64] for i in range(0, len(B64_PEM_KEY), 64))),
        {"KS301"},
    ),
    "evasion-dollar-brace-not-a-variable": (
        "dollar.yaml",
        SECRET.replace("hunter2", "hunter2${"),
        {"KS101"},
    ),
    "evasion-dollar-brace-not-an-identifier": (
        "dollar2.yaml",
        SECRET.replace("hunter2", "'${ hunter2 }'"),
        {"KS101"},
    ),
    "evasion-angle-bracket-not-a-placeholder": (
        "angle.yaml",
        SECRET.replace("hunter2", "<b>hunter2</b>"),
        {"KS101"},
    ),
    "evasion-angle-bracket-prefix": (
        "angle2.yaml",
        SECRET.replace("hunter2", "<hunter2"),
        {"KS101"},
    ),
    "evasion-ref-plus-not-vals": ("vals.yaml", SECRET.replace("hunter2", "ref+hunter2"), {"KS101"}),
    "evasion-template-prints-a-literal": (
        "literal.yaml",
        SECRET.replace("hunter2", '{{ "hunter2" | b64enc }}'),
        {"KS101"},
    ),
    "evasion-empty-action": (
        "empty-action.yaml",
        SECRET.replace("hunter2", "'hunter2{{}}'"),
        {"KS101"},
    ),
    "evasion-if-end-outside-templates": (
        "deploy/if.yaml",
        "{{- if .Values.enabled }}\n" + SECRET + "{{- end }}\n",
        {"KS101"},
    ),
    "evasion-if-inside-data": (
        "deploy/if2.yaml",
        SECRET.replace(
            "  password: hunter2", "  {{- if .Values.x }}\n  password: hunter2\n  {{- end }}"
        ),
        {"KS101"},
    ),
    "alias-bomb-sequence": ("bomb.json", ALIAS_BOMB, set()),
    "alias-bomb-under-a-sops-rule": ("secrets/bomb.yaml", ALIAS_BOMB, set()),
    "alias-bomb-then-secret": ("bomb.yml.j2", ALIAS_BOMB + "---\n" + SECRET, {"KS101"}),
    "evasion-alias-cycle": (
        "cycle.yaml",
        "a: &x [*x]\n---\n" + SECRET,
        {"KS101"},
    ),
    # ---- issue 9, item 27: false positives ----
    "fp-unquoted-values-outside-chart": (
        "deploy/values-secret.yaml",
        SECRET.replace("hunter2", "{{ .Values.password }}"),
        set(),
    ),
    "fp-helmfile-required-env": (
        "deploy/secret-env.yaml",
        SECRET.replace("hunter2", '{{ requiredEnv "DB_PASSWORD" }}'),
        set(),
    ),
    "fp-helmfile-required-env-gotmpl": (
        "helmfile.d/secret.yaml.gotmpl",
        SECRET.replace("hunter2", '{{ requiredEnv "DB_PASSWORD" }}'),
        set(),
    ),
    "fp-helmfile-required-env-quoted": (
        "deploy/secret3.yaml",
        SECRET.replace("hunter2", '"{{ requiredEnv \\"DB_PASSWORD\\" }}"'),
        set(),
    ),
    "fp-kustomize-var": ("deploy/kvar.yaml", SECRET.replace("hunter2", "$(DB_PASSWORD)"), set()),
    "fp-flux-substitution-default": (
        "deploy/flux.yaml",
        SECRET.replace("hunter2", "${DB_PASSWORD:=changeme}"),
        set(),
    ),
    "fp-jinja-variable": (
        "deploy/j.yaml.j2",
        SECRET.replace("hunter2", "{{ db_password }}"),
        set(),
    ),
    "fp-base64-certificate": (
        "cm-cert.yaml",
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  ca: "
        + base64.b64encode(b"-----BEGIN CERTIFICATE-----\n" + os.urandom(60)).decode()
        + "\n",
        set(),
    ),
    "fp-configmap-mentions-secret": (
        "cm-doc.yaml",
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  readme: |\n    the kind of Secret we use\n    is sealed\n",
        set(),
    ),
}

# Cases that need encryption (computed once: encrypting takes a wrap per value).
ENCRYPTED = {
    "sops-secret": ("k8s/secret.enc.yaml", lambda: _enc(SECRET), set()),
    "sops-flux-layout": (
        "clusters/prod/secret.yaml",
        lambda: _enc(SECRET, rules=FLUX_RULES),
        set(),
    ),
    "sops-flux-layout-yml": (
        "clusters/prod/secret.yml",
        lambda: _enc(SECRET, rules=FLUX_RULES),
        set(),
    ),
    "sops-json-secret": (
        "k8s/secret.json",
        lambda: _enc('{"apiVersion": "v1", "kind": "Secret", "stringData": {"k": "v"}}', "json"),
        set(),
    ),
    "sops-partial-secret": (
        "k8s/partial.yaml",
        lambda: _enc(
            SECRET.replace("stringData:", "data:\n  x: eA==\nstringData:"),
            rules=Rules(encrypted_regex="^data$"),
        ),
        {"KS101", "KS202"},  # plaintext Secret value, and its .sops.yaml rule wants stringData
    ),
    "sops-partial-vs-rule": (
        "secrets/values.yaml",
        lambda: _enc("password: a\ntoken: b\n", rules=Rules(encrypted_regex="^password$")),
        {"KS202"},
    ),
    "sops-rule-unencrypted": ("secrets/app-values.yaml", lambda: "password: hunter2\n", {"KS201"}),
    "sops-rule-tool-config": (
        "secrets/kustomization.yaml",
        lambda: "resources: [a.yaml]\npassword: x\n",
        set(),
    ),
    "sops-rule-manifest-not-secret": (
        "secrets/cm.yaml",
        lambda: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n",
        set(),
    ),
    "sops-broken-metadata": (
        "secrets/broken.yaml",
        lambda: (
            "password: ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]\nsops:\n    mac: x\n    version: 3.11.0\n"
        ),
        {"KS204"},
    ),
}

CONFIG = load_config(
    "creation_rules:\n"
    "  - path_regex: ^secrets/.*\\.yaml$\n"
    "    encrypted_regex: ^(password|token)$\n"
    f"    age: {PUBLIC}\n"
    "  - path_regex: .*\\.ya?ml$\n"
    "    encrypted_regex: ^(data|stringData)$\n"
    f"    age: {PUBLIC}\n",
    Path("/repo/.sops.yaml"),
)


def _options() -> Options:
    files = {
        "overlay/db.env": b"PASSWORD=hunter2\n",
        "enc/db.env": _enc("PASSWORD=hunter2\n", "dotenv").encode(),
    }

    def rule_for(path: str):  # type: ignore[no-untyped-def]
        try:
            return CONFIG.rule_for(Path("/repo") / path)
        except Exception:
            return None

    return Options(rule_for=rule_for, read=files.get)


OPTIONS = _options()


@pytest.mark.parametrize("name", sorted(CASES))
def test_case(name: str) -> None:
    path, content, expected = CASES[name]
    data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape")
    found = scan_bytes(path, data, OPTIONS)
    assert {f.rule for f in found} == expected, [f.text() for f in found]


@pytest.mark.parametrize("name", sorted(ENCRYPTED))
def test_encrypted_case(name: str) -> None:
    path, make, expected = ENCRYPTED[name]
    found = scan_bytes(path, make().encode(), OPTIONS)
    assert {f.rule for f in found} == expected, [f.text() for f in found]


def test_lines_and_locators_name_no_values() -> None:
    found = scan_bytes("k8s/secret.yaml", SECRET.encode(), OPTIONS)
    assert [(f.rule, f.line, f.col) for f in found] == [("KS101", 7, 1)]
    for f in found:
        assert "hunter2" not in f.message + f.locator + f.fingerprint
