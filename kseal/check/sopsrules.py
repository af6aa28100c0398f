"""Rules about SOPS: files ``.sops.yaml`` says must be encrypted, partly encrypted files, broken
metadata and (with an identity) MACs that do not verify."""

from __future__ import annotations

from collections.abc import Callable

from kseal.check.model import Finding
from kseal.check.nodes import Map, Node, Seq
from kseal.errors import InputError, KsealError, MetadataError
from kseal.sops.codec import is_encrypted_value
from kseal.sops.config import CreationRule
from kseal.sops.rules import RULE_NAMES, Rules, Selector
from kseal.sops.stores import get_store
from kseal.sops.tree import Branch, Comment, leaves

# Decrypts the file to verify its MAC; raises MacError/DecryptError, or KeyRetrievalError when
# no identity is available (then nothing is reported).
VerifyMac = Callable[[bytes], None]


# Tool configuration that a broad path_regex (".*\\.yaml") matches but nobody means to encrypt.
NEVER_REQUIRED = {
    ".sops.yaml",
    ".kseal.yaml",
    ".pre-commit-config.yaml",
    ".pre-commit-hooks.yaml",
    "kustomization.yaml",
    "kustomization.yml",
    "Chart.yaml",
    "Chart.lock",
    ".gitlab-ci.yml",
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "renovate.json",
    ".yamllint.yaml",
}


def _exempt(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name in NEVER_REQUIRED or path.startswith(".github/") or "/.github/" in path


# API groups of the Kubernetes built-in kinds (and kustomize's own configuration kinds)
BUILTIN_GROUPS = {
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "extensions",
    "kustomize.config.k8s.io",
}
# custom resources that hold ciphertext or references to secrets kept elsewhere, never values
REFERENCE_GROUPS = {
    "bitnami.com",  # SealedSecret
    "external-secrets.io",
    "generators.external-secrets.io",
    "secrets-store.csi.x-k8s.io",
    "secrets.hashicorp.com",
    "onepassword.com",
}


def _exempt_manifest(doc: Branch) -> bool:
    """A manifest .sops.yaml need not cover: a Secret (KS101's business), a built-in kind that
    holds no secrets (ConfigMap, Deployment, Service...) or a resource of a secret-reference
    operator (SealedSecret, ExternalSecret...). Other custom resources are not exempt: they may
    carry credentials anywhere."""
    api, kind = doc.get("apiVersion"), doc.get("kind")
    if not isinstance(api, str) or not isinstance(kind, str):
        return False
    if kind.lower() == "secret":
        return True
    group = api.rpartition("/")[0] if "/" in api else ""
    return group in BUILTIN_GROUPS or group.endswith(".k8s.io") or group in REFERENCE_GROUPS


def _offenders(docs: list[Branch], rules: Rules) -> list[tuple[str, ...]]:
    selector = Selector(rules)
    out = []
    for doc in docs:
        for leaf in leaves(doc):
            value = leaf.value
            if value is None or isinstance(value, Comment) or value == "":
                continue
            if not selector.should_encrypt(leaf.path, leaf.comments, False):
                continue
            if isinstance(value, str) and is_encrypted_value(value):
                continue
            out.append(leaf.path)
    return out


def locate(nodes: list[Node], path: tuple[str, ...], text: str) -> tuple[int, int]:
    """The line and column of ``path`` (best effort: the deepest key found)."""
    best = (1, 1)
    for doc in nodes:
        node: Node | None = doc
        for step in path:
            while isinstance(node, Seq):
                node = next((i for i in node.items if isinstance(i, Map) and i.get(step)), None)
            if not isinstance(node, Map) or node.key_node(step) is None:
                break
            key = node.key_node(step)
            assert key is not None  # noqa: S101 - checked just above
            best = (key.line, key.col)
            node = node.get(step)
        else:
            return best
    if path and not nodes:
        for number, line in enumerate(text.splitlines(), 1):
            if line.lstrip().startswith(path[-1]):
                return number, 1
    return best


def check(
    path: str,
    data: bytes,
    fmt: str,
    rule: CreationRule | None,
    nodes: list[Node],
    verify_mac: VerifyMac | None = None,
) -> list[Finding]:
    try:
        loaded = get_store(fmt).load(data)
    except (InputError, KsealError):
        return []
    text = data.decode("utf-8", "replace")
    rule_rules = rule.rules if rule is not None else None
    has_selection = rule_rules is not None and any(getattr(rule_rules, n) for n in RULE_NAMES)
    if loaded.metadata is None:
        if rule is None or not rule.path_regex or fmt == "binary" or _exempt(path):
            return []
        docs = [d for d in loaded.docs if not _exempt_manifest(d)]
        if not docs or not _offenders(docs, (rule_rules or Rules()).with_default()):
            return []
        return [
            Finding(
                "KS201",
                path,
                1,
                1,
                f"matches the .sops.yaml rule path_regex {rule.path_regex!r} but is not encrypted",
                "unencrypted",
            )
        ]
    from kseal.sops.metadata import from_plain

    try:
        metadata = from_plain(loaded.metadata)
    except MetadataError as exc:
        line, col = locate(nodes, ("sops",), text)
        return [Finding("KS204", path, line, col, exc.message, "metadata")]
    by_rule = has_selection and rule_rules is not None and rule is not None
    rules = rule_rules if by_rule and rule_rules is not None else metadata.rules
    who, extra = "the file's sops metadata", ""
    if by_rule and rule is not None:
        who = "its .sops.yaml rule" + (
            f" (path_regex {rule.path_regex!r})" if rule.path_regex else ""
        )
    elif rule is None:  # never claim a rule that does not exist
        extra = "; no .sops.yaml rule matches it, so kseal encrypt -i needs its recipients (--age)"
    findings = []
    for leaf_path in _offenders(loaded.docs, rules.with_default()):
        line, col = locate(nodes, leaf_path, text)
        shown = ".".join(leaf_path)
        findings.append(
            Finding(
                "KS202",
                path,
                line,
                col,
                f"{shown} is not encrypted, but {who} says it must be{extra}",
                f"partial {shown}",
            )
        )
    if verify_mac is not None:
        findings.extend(_mac(path, data, verify_mac, nodes, text))
    return findings


def _mac(path: str, data: bytes, verify: VerifyMac, nodes: list[Node], text: str) -> list[Finding]:
    from kseal.errors import DecryptError, KeyRetrievalError, MacError

    try:
        verify(data)
    except KeyRetrievalError:
        return []
    except (MacError, DecryptError) as exc:
        line, col = locate(nodes, ("sops", "mac"), text)
        return [Finding("KS203", path, line, col, exc.message, "mac")]
    return []
