"""Template syntaxes that fill values in at deploy time, recognised exactly so that a literal value
cannot pass as one: Go/Helm/helmfile and Jinja actions, envsubst/Flux ``${VAR}``, kustomize and
Kubernetes ``$(VAR)``, argocd-vault-plugin ``<path:...#key>``/``<key>`` and vals ``ref+scheme://``.

``render_neutral`` turns a templated YAML file (a Helm chart template, a ``.yaml.j2``, a
``.yaml.gotmpl``, or a manifest with ``{{- if }}`` around it anywhere) into parseable YAML, line
for line: directive-only lines become blank, inline actions become a marker that counts as
templated. Actions that only print a string literal (``{{ "hunter2" }}``) keep the literal.
"""

from __future__ import annotations

import re
import secrets

# envsubst / Flux post-build substitution: ${VAR}, ${VAR:=default}, ${VAR:-x}, ${#VAR}...
_SHELL_VAR = re.compile(r"\$\{#?[A-Za-z_][A-Za-z0-9_]*(?:[:=+?#%/^,-][^}\n]*)?\}")
# kustomize vars and Kubernetes env expansion: $(VAR)
_PAREN_VAR = re.compile(r"\$\([A-Za-z_][A-Za-z0-9_.-]*\)")
# argocd-vault-plugin inline path placeholder, optionally with a version and modifiers
_AVP_PATH = re.compile(r"<path:[^<>#\s]+#[^<>#]+(?:#[0-9]+)?(?:\s*\|\s*[A-Za-z0-9_ ]+)*>")
# argocd-vault-plugin generic placeholder: the whole value is <key> (or <key | modifier>)
_AVP_KEY = re.compile(r"<[A-Za-z_][A-Za-z0-9_.-]*(?:\s*\|\s*[A-Za-z0-9_]+)*>")
# vals references: ref+vault://..., ref+awssecrets://..., ref+sops://...
_VALS = re.compile(r"ref\+[a-z][a-z0-9]*://\S+")
# an action that prints nothing but a string literal: not a template, a literal in disguise
_LITERAL_ACTION = re.compile(
    r"""\{\{-?\s*(?:print\s+|printf\s+)?(?:"((?:[^"\\\n]|\\.)*)"|`([^`]*)`)\s*"""
    r"""(?:\|\s*(?:b64enc|quote|squote|trim|toString)\s*)*-?\}\}"""
)

# What an inline action becomes when a file is made parseable: a per-process random token, so a
# value in a file cannot imitate it.
MARKER = f"kseal-templated-{secrets.token_hex(6)}"

# one action, statement or comment, never running past its own closing braces
_ACTION = r"\{\{(?:[^}]|\}(?!\}))*\}\}|\{%(?:[^%]|%(?!\}))*%\}|\{#(?:[^#]|#(?!\}))*#\}"
_DIRECTIVE_LINE = re.compile(rf"^\s*(?:(?:{_ACTION})\s*)+$")
_INLINE = re.compile(_ACTION)


def _is_template(action: str) -> bool:
    """An action that produces a value at render time (not a comment, not a bare literal)."""
    inner = action[2:-2].strip(" \t\r\n-")
    if not inner or action.startswith("{#") or inner.startswith("/*"):
        return False
    return _LITERAL_ACTION.fullmatch(action) is None


def templated(value: str) -> bool:
    """A value filled in at deploy time, not a secret in the file."""
    if MARKER in value:
        return True
    if ("{{" in value or "{%" in value) and any(
        _is_template(m.group(0)) for m in _INLINE.finditer(value)
    ):
        return True
    if "${" in value and _SHELL_VAR.search(value):
        return True
    if "$(" in value and _PAREN_VAR.search(value):
        return True
    if "<" in value and (_AVP_PATH.search(value) or _AVP_KEY.fullmatch(value)):
        return True
    return value.startswith("ref+") and _VALS.fullmatch(value) is not None


def has_template_syntax(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def _inline(m: re.Match[str]) -> str:
    literal = _LITERAL_ACTION.fullmatch(m.group(0))
    if literal:
        return literal.group(1) if literal.group(1) is not None else literal.group(2)
    return MARKER if _is_template(m.group(0)) else ""


def render_neutral(text: str) -> str:
    """``text`` with template directives blanked and actions replaced, line for line."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if "{" not in line:
            continue
        if _DIRECTIVE_LINE.match(line) and not _LITERAL_ACTION.search(line):
            lines[i] = ""
        else:
            lines[i] = _INLINE.sub(_inline, line)
    return "\n".join(lines)
