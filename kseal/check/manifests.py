"""Rules over Kubernetes manifests: plaintext Secrets (also in Helm templates and kustomize
generators), TLS key backups, kubeconfig credentials, SealedSecret scope problems."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kseal.check.model import Finding
from kseal.check.nodes import Map, Node, Scalar, Seq, parse_tolerant, to_plain
from kseal.check.nodes import manifests as manifests_in
from kseal.check.templates import has_template_syntax, render_neutral, templated

SCOPE_ANNOTATIONS = (
    "sealedsecrets.bitnami.com/namespace-wide",
    "sealedsecrets.bitnami.com/cluster-wide",
)
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_KEY_BACKUP_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key"


@dataclass
class Context:
    path: str
    helm: bool = False
    # reads a file relative to the repository (None if absent); used for kustomize references
    read: Callable[[str], bytes | None] = lambda _p: None
    is_encrypted: Callable[[str, bytes], bool] = lambda _p, _d: False
    sealing_keys: Sequence[Any] = field(default_factory=list)


def _where(doc: Map) -> str:
    meta = doc.get("metadata")
    name = ns = ""
    if isinstance(meta, Map):
        name, ns = meta.text("name"), meta.text("namespace")
    return f"{ns}/{name}" if ns else name or "(unnamed)"


def _plaintext_keys(block: Node | None) -> list[Scalar]:
    """Keys of ``block`` whose values are literal strings. A value that is not a string (a
    mapping or list: what an unquoted ``{{ ... }}`` parses as) is templated, not plaintext; with
    duplicate keys the last one counts."""
    if not isinstance(block, Map):
        return []
    last: dict[str, tuple[Scalar, Node]] = {}
    for key, value in block.items:
        last.pop(key.value, None)
        last[key.value] = (key, value)
    out = []
    for key, value in last.values():
        if not isinstance(value, Scalar):
            continue
        v = value.value
        if value.is_null or not v or templated(v) or v.startswith("ENC[AES256_GCM,"):
            continue
        out.append(key)
    return out


def check_manifest(doc: Map, ctx: Context) -> list[Finding]:
    kind = doc.text("kind")
    if kind.lower() == "secret":
        return _secret(doc, ctx)  # values of a SOPS document are ENC[...], so never flagged
    if kind == "SealedSecret":
        return _sealed(doc, ctx)
    if kind == "Config" and isinstance(doc.get("users"), Seq):
        return _kubeconfig(doc, ctx)
    if posixpath.basename(ctx.path) in KUSTOMIZATION_NAMES or kind == "Kustomization":
        return _kustomization(doc, ctx)
    return []


def _secret(doc: Map, ctx: Context) -> list[Finding]:
    findings = []
    where = _where(doc)
    tls = doc.text("type") == "kubernetes.io/tls"
    meta = doc.get("metadata")
    labels = meta.get("labels") if isinstance(meta, Map) else None
    backup = isinstance(labels, Map) and labels.get(_KEY_BACKUP_LABEL) is not None
    for field_name in ("data", "stringData"):
        keys = _plaintext_keys(doc.get(field_name))
        if not keys:
            continue
        names = [k.value for k in keys]
        anchor = doc.key_node(field_name) or keys[0]
        if (tls or backup) and "tls.key" in names:
            key = next(k for k in keys if k.value == "tls.key")
            what = "a sealed-secrets key backup" if backup else "a TLS private key"
            findings.append(
                Finding(
                    "KS303",
                    ctx.path,
                    key.line,
                    key.col,
                    f"Secret {where} holds {what} in plaintext ({field_name}.tls.key)",
                    f"Secret/{where} {field_name}.tls.key",
                )
            )
            # the rest of a TLS Secret is certificates: public
            names = [n for n in names if n not in ("tls.key", "tls.crt", "ca.crt")]
            if not names:
                continue
        rule = "KS102" if ctx.helm else "KS101"
        findings.append(
            Finding(
                rule,
                ctx.path,
                anchor.line,
                anchor.col,
                f"Secret {where} has plaintext {field_name}: {', '.join(names)}",
                f"Secret/{where} {field_name}",
            )
        )
    return findings


def _kubeconfig(doc: Map, ctx: Context) -> list[Finding]:
    findings = []
    users = doc.get("users")
    for entry in users.items if isinstance(users, Seq) else []:
        if not isinstance(entry, Map):
            continue
        user = entry.get("user")
        if not isinstance(user, Map):
            continue
        for name in ("client-key-data", "token", "password"):
            value = user.get(name)
            if (
                isinstance(value, Scalar)
                and value.value
                and not value.is_null
                and not templated(value.value)
            ):
                key = user.key_node(name) or value
                who = entry.text("name") or "(unnamed)"
                findings.append(
                    Finding(
                        "KS304",
                        ctx.path,
                        key.line,
                        key.col,
                        f"kubeconfig user {who} embeds {name}",
                        f"kubeconfig/{who} {name}",
                    )
                )
    return findings


def _kustomization(doc: Map, ctx: Context) -> list[Finding]:
    findings = []
    generators = doc.get("secretGenerator")
    base = posixpath.dirname(ctx.path)
    for gen in generators.items if isinstance(generators, Seq) else []:
        if not isinstance(gen, Map):
            continue
        name = gen.text("name") or "(unnamed)"
        literals = gen.get("literals")
        for lit in literals.items if isinstance(literals, Seq) else []:
            if isinstance(lit, Scalar) and "=" in lit.value:
                key, _, value = lit.value.partition("=")
                if value and not templated(value):
                    findings.append(
                        Finding(
                            "KS103",
                            ctx.path,
                            lit.line,
                            lit.col,
                            f"secretGenerator {name} has a plaintext literal {key}",
                            f"secretGenerator/{name} literal {key}",
                        )
                    )
        for field_name in ("envs", "files", "env"):
            refs = gen.get(field_name)
            ref_nodes = (
                refs.items if isinstance(refs, Seq) else [refs] if isinstance(refs, Scalar) else []
            )
            for ref in ref_nodes:
                if not isinstance(ref, Scalar) or not ref.value:
                    continue
                target = ref.value.partition("=")[2] if "=" in ref.value else ref.value
                rel = posixpath.normpath(posixpath.join(base, target))
                data = ctx.read(rel)
                if data is not None and not ctx.is_encrypted(rel, data):
                    findings.append(
                        Finding(
                            "KS103",
                            ctx.path,
                            ref.line,
                            ref.col,
                            f"secretGenerator {name} reads plaintext file {target}",
                            f"secretGenerator/{name} {field_name} {target}",
                        )
                    )
    return findings


def _annotations(meta: Node | None) -> dict[str, Any]:
    if not isinstance(meta, Map):
        return {}
    ann = to_plain(meta.get("annotations"))
    return ann if isinstance(ann, dict) else {}


def _sealed(doc: Map, ctx: Context) -> list[Finding]:
    findings = []
    spec = doc.get("spec")
    template = spec.get("template") if isinstance(spec, Map) else None
    t_meta = template.get("metadata") if isinstance(template, Map) else None
    outer = _annotations(doc.get("metadata"))
    inner = _annotations(t_meta)
    where = _where(doc)
    for name in SCOPE_ANNOTATIONS:
        if str(inner.get(name, "")).lower() == "true" and name not in outer:
            node = t_meta if isinstance(t_meta, Map) else doc
            findings.append(
                Finding(
                    "KS402",
                    ctx.path,
                    node.line,
                    node.col,
                    f"SealedSecret {where}: {name} is only in spec.template.metadata; the controller "
                    "reads the scope from metadata.annotations",
                    f"SealedSecret/{where} {name}",
                )
            )
    if ctx.sealing_keys:
        findings.extend(_unseal_check(doc, ctx, where))
    return findings


def _unseal_check(doc: Map, ctx: Context, where: str) -> list[Finding]:
    from kseal import secret
    from kseal.errors import KsealError

    try:
        # the values only: whether a template renders is not the key's business
        secret.unseal_items(to_plain(doc), ctx.sealing_keys)
    except KsealError as exc:
        return [
            Finding(
                "KS401",
                ctx.path,
                doc.line,
                doc.col,
                f"SealedSecret {where}: {exc.message}",
                f"SealedSecret/{where}",
                extra_hints=exc.hints,
            )
        ]
    return []


MAX_EMBEDDING = 2


def check_embedded(strings: list[Scalar], ctx: Context, depth: int = 0) -> list[Finding]:
    """Manifests written as strings inside other documents (a Secret in a ConfigMap's data, a
    Helm values string): their findings, placed on the string."""
    findings: list[Finding] = []
    for string in strings:
        if "\n" not in string.value and not string.value.lstrip().startswith("{"):
            continue  # one line of YAML cannot be a manifest with a kind and data; JSON can
        text = string.value
        inner: list[Scalar] = []
        docs = parse_tolerant(render_neutral(text) if has_template_syntax(text) else text, inner)
        found = [f for doc in docs for obj in manifests_in(doc) for f in check_manifest(obj, ctx)]
        if depth < MAX_EMBEDDING and inner:
            found.extend(check_embedded(inner, ctx, depth + 1))
        findings.extend(
            Finding(
                f.rule,
                ctx.path,
                string.line,
                string.col,
                f"{f.message} (in a string)",
                f"embedded {f.locator}",
                extra_hints=f.extra_hints,
            )
            for f in found
        )
    return findings
