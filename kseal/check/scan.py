"""Scanning one file with every rule, then applying inline suppressions.

The caller supplies what needs the outside world (the ``.sops.yaml`` rule for a path, reading a
referenced file, verifying a MAC), so this stays testable with plain bytes. Nothing is skipped for
looking binary: key material is searched in every file, YAML that is only partly readable is
scanned as far as it parses, and a file too large to hold is scanned in segments
(``scan_stream``).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kseal.check import keymaterial, manifests, sopsrules, source, templates
from kseal.check.model import Finding
from kseal.check.nodes import Node, Scalar, expanded_size, parse, parse_tolerant
from kseal.check.nodes import manifests as objects_in
from kseal.check.suppress import inline_allowed
from kseal.errors import InputError
from kseal.sops.config import CreationRule
from kseal.sops.stores import format_for_path
from kseal.sopsfile import has_sops_metadata
from kseal.tempnames import temp_file_target

# characters per segment of a large file (scan_stream)
SEGMENT = 4 << 20
# a YAML file whose aliases expand past this many nodes is not handed to the SOPS store, which
# copies aliases (an alias bomb would stall the check); the manifest rules still run
MAX_EXPANDED = 1_000_000
_ALIAS = re.compile(r"(?:^|[\s\[{,:-])\*[^\s,\[\]{}]", re.M)


@dataclass
class Options:
    rule_for: Callable[[str], CreationRule | None] = lambda _p: None
    read: Callable[[str], bytes | None] = lambda _p: None
    verify_mac: sopsrules.VerifyMac | None = None
    sealing_keys: Sequence[Any] = field(default_factory=list)


def is_encrypted(path: str, data: bytes) -> bool:
    """Whether ``data`` is a SOPS file (any format kseal reads)."""
    return has_sops_metadata(data, format_for_path(path))


def is_helm_template(path: str, text: str) -> bool:
    return "{{" in text and "/templates/" in f"/{posixpath.dirname(path)}/"


def scan_bytes(path: str, data: bytes, options: Options | None = None) -> list[Finding]:
    name, bom = source.encoding(data[:4])
    if name == "utf-8" and not bom:
        return scan_text(path, data.decode("utf-8", "replace"), options, data)
    return scan_text(path, source.decode(data), options)


def scan_text(
    path: str, text: str, options: Options | None = None, data: bytes | None = None
) -> list[Finding]:
    """Every finding in ``text`` (the file's content; ``data`` its UTF-8 bytes when at hand)."""
    opts = options or Options()
    if temp_file_target(posixpath.basename(path)) is not None:
        return [_leftover(path)]  # whatever it holds: a decrypt -i may have been killed mid-way
    findings = keymaterial.scan(path, text)
    fmt = source.manifest_format(path)
    nodes: list[Node] = []
    whole = False
    helm = False
    if fmt in ("yaml", "json"):
        helm = is_helm_template(path, text)
        strings: list[Scalar] = []
        readable = templates.render_neutral(text) if templates.has_template_syntax(text) else text
        nodes, whole = _parse(readable, strings)
        whole = whole and readable is text
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
        if strings:
            findings.extend(manifests.check_embedded(strings, ctx))
    bomb = (
        nodes
        and "*" in text
        and _ALIAS.search(text) is not None
        and expanded_size(nodes, MAX_EXPANDED) > MAX_EXPANDED
    )
    if fmt != "binary" and not helm and not bomb:
        rule = opts.rule_for(path)
        if rule is not None or "sops" in text:
            raw = data if data is not None else text.encode()
            findings.extend(
                sopsrules.check(path, raw, fmt, rule, nodes, opts.verify_mac, whole=whole)
            )
    if not findings:
        return findings
    lines = text.splitlines()
    return [f for f in _unique(findings) if not inline_allowed(f, lines)]


def _parse(text: str, strings: list[Scalar]) -> tuple[list[Node], bool]:
    """The documents of ``text``, and whether that is all of it (else what parsed, tolerantly)."""
    found: list[Scalar] = []
    try:
        nodes = parse(text, 0, found)
    except InputError:
        return parse_tolerant(text, strings), False
    strings.extend(found)
    return nodes, True


def _leftover(path: str) -> Finding:
    target = temp_file_target(posixpath.basename(path))
    return Finding(
        "KS305", path, 1, 1, f"temporary file of a killed kseal run writing {target}", "leftover"
    )


def scan_stream(
    path: str, lines: Iterable[str], options: Options | None = None, size: int = SEGMENT
) -> list[Finding]:
    """``scan_text`` over a file read line by line, in segments of about ``size`` characters."""
    yaml = source.manifest_format(path) in ("yaml", "json")
    findings: list[Finding] = []
    for offset, text in source.segments(lines, yaml=yaml, size=size):
        findings.extend(replace(f, line=f.line + offset) for f in scan_text(path, text, options))
    return _unique(findings)


def _unique(findings: list[Finding]) -> list[Finding]:
    seen = set()
    out = []
    for f in sorted(findings, key=lambda f: (f.line, f.col, f.rule)):
        # a file is unencrypted once, however many segments it was read in
        key = (f.rule, 0, 0, f.locator) if f.rule == "KS201" else (f.rule, f.line, f.col, f.locator)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
