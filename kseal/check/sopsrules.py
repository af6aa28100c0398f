"""Rules about SOPS: files ``.sops.yaml`` says must be encrypted, partly encrypted files, broken
metadata and (with an identity) MACs that do not verify."""

from __future__ import annotations

from collections.abc import Callable

from kseal.check.model import Finding
from kseal.check.nodes import Map, Node, Scalar, Seq
from kseal.errors import InputError, KsealError, MetadataError
from kseal.sops.codec import is_encrypted_value
from kseal.sops.config import CreationRule
from kseal.sops.rules import RULE_NAMES, Rules, Selector
from kseal.sops.stores import Loaded, get_store
from kseal.sops.stores.yaml_scalar import resolve
from kseal.sops.tree import Branch, Comment, Timestamp, Value, leaves

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
    *,
    whole: bool = False,
) -> list[Finding]:
    """The SOPS findings of one file. ``nodes`` are its parsed documents; with ``whole`` they are
    the entire file as written (not a tolerant partial parse or a rendered template), and the
    rules read their values from them instead of parsing the file a second time."""
    loaded = (_from_nodes(nodes) if whole else None) or _load(fmt, data)
    if loaded is None:
        return []
    source = _Source(path, fmt, data, nodes, whole)
    if loaded.metadata is None:
        return _unencrypted(source, loaded, rule)
    from kseal.sops.metadata import from_plain

    try:
        metadata = from_plain(loaded.metadata)
    except MetadataError as exc:
        line, col = locate(nodes, ("sops",), source.text)
        return [Finding("KS204", path, line, col, exc.message, "metadata")]
    findings = _partial(source, loaded, rule, metadata.rules)
    if verify_mac is not None:
        findings.extend(_mac(path, data, verify_mac, nodes, source.text))
    return findings


class _Source:
    """One file as the rules see it."""

    def __init__(self, path: str, fmt: str, data: bytes, nodes: list[Node], whole: bool) -> None:
        self.path, self.fmt, self.data, self.nodes, self.whole = path, fmt, data, nodes, whole
        self.text = data.decode("utf-8", "replace")

    def for_rules(self, loaded: Loaded, rules: Rules) -> Loaded | None:
        """``loaded``, or the file through its store when ``rules`` select by comments (which
        check's nodes do not keep)."""
        if self.whole and _uses_comments(rules):
            return _load(self.fmt, self.data)
        return loaded


def _unencrypted(source: _Source, loaded: Loaded, rule: CreationRule | None) -> list[Finding]:
    """KS201: a file a ``.sops.yaml`` rule matches, with values it would encrypt, in the clear."""
    if rule is None or not rule.path_regex or source.fmt == "binary" or _exempt(source.path):
        return []
    rules = rule.rules.with_default()
    usable = source.for_rules(loaded, rules)
    docs = [d for d in usable.docs if not _exempt_manifest(d)] if usable is not None else []
    if not docs or not _offenders(docs, rules):
        return []
    message = f"matches the .sops.yaml rule path_regex {rule.path_regex!r} but is not encrypted"
    return [Finding("KS201", source.path, 1, 1, message, "unencrypted")]


def _partial(
    source: _Source, loaded: Loaded, rule: CreationRule | None, own: Rules
) -> list[Finding]:
    """KS202: values of a SOPS file that its rule (or its own metadata) says must be encrypted."""
    rule_rules = rule.rules if rule is not None else None
    by_rule = rule_rules is not None and any(getattr(rule_rules, n) for n in RULE_NAMES)
    rules = rule_rules if by_rule and rule_rules is not None else own
    who, extra = "the file's sops metadata", ""
    if by_rule and rule is not None:
        who = "its .sops.yaml rule" + (
            f" (path_regex {rule.path_regex!r})" if rule.path_regex else ""
        )
    elif rule is None:  # never claim a rule that does not exist
        extra = "; no .sops.yaml rule matches it, so kseal encrypt -i needs its recipients (--age)"
    usable = source.for_rules(loaded, rules)
    if usable is None:
        return []
    findings = []
    for leaf_path in _offenders(usable.docs, rules.with_default()):
        line, col = locate(source.nodes, leaf_path, source.text)
        shown = ".".join(leaf_path)
        message = f"{shown} is not encrypted, but {who} says it must be{extra}"
        findings.append(Finding("KS202", source.path, line, col, message, f"partial {shown}"))
    return findings


def _load(fmt: str, data: bytes) -> Loaded | None:
    """The file through its SOPS store, or None when the store cannot read it (then the SOPS
    rules have nothing to say: the manifest rules and the key scan still ran)."""
    try:
        return get_store(fmt).load(data)
    except (InputError, KsealError):
        return None


def _uses_comments(rules: Rules) -> bool:
    return bool(rules.encrypted_comment_regex or rules.unencrypted_comment_regex)


def _from_nodes(nodes: list[Node]) -> Loaded | None:
    """The documents and ``sops`` metadata of an already parsed YAML or JSON file, as the SOPS
    store reads them: the top-level ``sops`` mapping of each document is taken out (the first
    is the metadata, its scalars typed as YAML resolves them). Document values stay text (the
    rules only ask whether a value is an ``ENC[...]`` string, empty or null); comments are not
    kept. None when the store would refuse the file (a document that is not a mapping,
    duplicate keys), so that the store's verdict stands."""
    docs: list[Branch] = []
    metadata: object = None
    for node in nodes:
        if not isinstance(node, Map):
            return None
        doc = Branch()
        seen: set[str] = set()
        for key, value in node.items:
            if key.value in seen:
                return None
            seen.add(key.value)
            if key.value == "sops":
                if metadata is None:
                    metadata = _typed(value)
                continue
            doc.append((key.value, _values(value)))
        docs.append(doc)
    if metadata is not None and not isinstance(metadata, dict):
        return None
    return Loaded(docs, metadata)


def _values(node: Node) -> Value:
    if isinstance(node, Scalar):
        return None if node.is_null else node.value
    if isinstance(node, Map):
        return Branch((k.value, _values(v)) for k, v in node.items)
    return [_values(v) for v in node.items]


def _typed(node: Node) -> object:
    if isinstance(node, Scalar):
        if node.is_null:
            return None
        value = resolve(node.value, None, plain=True) if node.plain else node.value
        return value.text if isinstance(value, Timestamp) else value
    if isinstance(node, Map):
        return {k.value: _typed(v) for k, v in node.items}
    return [_typed(v) for v in node.items]


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
