"""Scanning one file's bytes with every rule, then applying inline suppressions.

The caller supplies what needs the outside world (the ``.sops.yaml`` rule for a path, reading a
referenced file, verifying a MAC), so this stays testable with plain bytes.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kseal.check import keymaterial, manifests, sopsrules
from kseal.check.model import Finding
from kseal.check.nodes import Node, parse
from kseal.check.nodes import manifests as objects_in
from kseal.check.suppress import inline_allowed
from kseal.errors import InputError
from kseal.sops.config import CreationRule
from kseal.sops.stores import format_for_path
from kseal.tempnames import temp_file_target

BINARY_SNIFF = 8192


@dataclass
class Options:
    rule_for: Callable[[str], CreationRule | None] = lambda _p: None
    read: Callable[[str], bytes | None] = lambda _p: None
    verify_mac: sopsrules.VerifyMac | None = None
    sealing_keys: Sequence[Any] = field(default_factory=list)


def is_encrypted(path: str, data: bytes) -> bool:
    """Whether ``data`` is a SOPS file (any format kseal reads)."""
    if b"sops" not in data:
        return False
    from kseal.errors import KsealError
    from kseal.sops.stores import get_store

    try:
        return get_store(format_for_path(path)).load(data).metadata is not None
    except (KsealError, ValueError):
        return False


def is_helm_template(path: str, text: str) -> bool:
    return "{{" in text and "/templates/" in f"/{posixpath.dirname(path)}/"


def scan_bytes(path: str, data: bytes, options: Options | None = None) -> list[Finding]:
    opts = options or Options()
    if temp_file_target(posixpath.basename(path)) is not None:
        return [_leftover(path)]  # whatever it holds: a decrypt -i may have been killed mid-way
    if b"\0" in data[:BINARY_SNIFF]:
        return []
    text = data.decode("utf-8", "replace")
    findings = keymaterial.scan(path, text)
    fmt = format_for_path(path)
    nodes: list[Node] = []
    helm = False
    if fmt in ("yaml", "json"):
        helm = is_helm_template(path, text)
        try:
            nodes = parse(manifests.helm_to_yaml(text) if helm else text)
        except InputError:
            nodes = []
        ctx = manifests.Context(
            path,
            helm=helm,
            read=opts.read,
            is_encrypted=is_encrypted,
            sealing_keys=opts.sealing_keys,
        )
        for doc in nodes:
            for obj in objects_in(doc):
                findings.extend(manifests.check_manifest(obj, ctx))
    if fmt != "binary" and not helm:
        rule = opts.rule_for(path)
        if rule is not None or b"sops" in data:
            findings.extend(sopsrules.check(path, data, fmt, rule, nodes, opts.verify_mac))
    if not findings:
        return findings
    lines = text.splitlines()
    return [f for f in _unique(findings) if not inline_allowed(f, lines)]


def _leftover(path: str) -> Finding:
    target = temp_file_target(posixpath.basename(path))
    return Finding(
        "KS305", path, 1, 1, f"temporary file of a killed kseal run writing {target}", "leftover"
    )


def _unique(findings: list[Finding]) -> list[Finding]:
    seen = set()
    out = []
    for f in sorted(findings, key=lambda f: (f.line, f.col, f.rule)):
        key = (f.rule, f.line, f.col, f.locator)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
