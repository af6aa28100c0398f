"""Seeded generators of plaintext documents for each format, with the plain data they hold.

YAML text is written here (not by kseal) in varied styles: block and flow collections, plain,
single- and double-quoted scalars, 2- or 4-space indentation, comments between items, multi-line
block scalars and several documents. The expected data is known from construction.
"""

from __future__ import annotations

import json
import random
import string
from typing import Any

TRICKY = [
    "",
    " ",
    "yes",
    "no",
    "on",
    "off",
    "true",
    "False",
    "null",
    "~",
    "123",
    "-7",
    "1.0",
    "1e3",
    "0x1F",
    "2024-01-01",
    "a: b",
    "#not a comment",
    "it's",
    'say "hi"',
    "back\\slash",
    "tab\there",
    "  lead",
    "trail  ",
    "multi\nline\n",
    "no newline\nat end",
    "ünïcødé ✓",
    "🔐 astral",
    "עברית",
    "e\u0301",
    "[brackets]",
    "{braces}",
    "- dash",
    "? question",
    "&anchor",
    "*alias",
    "!tag",
    "%percent",
    "@at",
    "`tick",
    "comma, separated",
    "ENC[not really]",
    "x" * 300,
]
KEYS = [
    "name",
    "password",
    "token",
    "db",
    "host",
    "port",
    "user_unencrypted",
    "data",
    "stringData",
    "api_key",
    "list",
    "nested",
    "ünï",
    "with space",
    "dash-key",
    "x.y",
]


class Gen:
    def __init__(self, seed: int, *, timestamps: bool = True) -> None:
        self.r = random.Random(seed)
        self.timestamps = timestamps

    def text(self) -> str:
        if self.r.random() < 0.5:
            return self.r.choice(TRICKY)
        alphabet = string.ascii_letters + string.digits + " -_./:=+@ñ€中"
        return "".join(self.r.choice(alphabet) for _ in range(self.r.randint(1, 24))).strip() or "v"

    def scalar(self) -> Any:
        kind = self.r.choice(["str", "str", "str", "int", "float", "bool", "none", "time"])
        if kind == "int":
            return self.r.choice([0, 1, -1, 42, 2**31, -(2**40), 9007199254740991])
        if kind == "float":
            return self.r.choice([0.5, -2.25, 1e-7, 3.14159, 1e21, 100.0, 0.1])
        if kind == "bool":
            return self.r.random() < 0.5
        if kind == "none":
            return None
        if kind == "time" and self.timestamps:
            return (
                "time",
                self.r.choice(
                    ["2024-01-01", "2025-06-30T12:34:56Z", "2025-06-30T12:34:56.5+02:00"]
                ),
            )
        return self.text()

    def key(self, used: set[str]) -> str:
        for _ in range(50):
            k = self.r.choice(KEYS) + ("" if self.r.random() < 0.6 else str(self.r.randint(0, 99)))
            if k not in used:
                used.add(k)
                return k
        k = f"k{len(used)}"
        used.add(k)
        return k

    def tree(self, depth: int = 0) -> dict[str, Any]:
        used: set[str] = set()
        out: dict[str, Any] = {}
        for _ in range(self.r.randint(1, 5 if depth else 7)):
            k = self.key(used)
            roll = self.r.random()
            if depth < 3 and roll < 0.2:
                out[k] = self.tree(depth + 1)
            elif depth < 3 and roll < 0.35:
                out[k] = [
                    self.tree(depth + 1) if self.r.random() < 0.3 else self.scalar()
                    for _ in range(self.r.randint(0, 4))
                ]
            else:
                out[k] = self.scalar()
        return out


# ---- YAML writer --------------------------------------------------------------------------------


def _dq(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _sq(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _yaml_scalar(g: Gen, v: Any, flow: bool) -> str:
    if isinstance(v, tuple):
        return v[1]
    if v is None:
        return g.r.choice(["null", "~", ""]) if not flow else "null"
    if isinstance(v, bool):
        return g.r.choice(["true", "True"]) if v else g.r.choice(["false", "FALSE"])
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if "\n" in v or not v or v != v.strip() or "'" in v or any(ord(c) < 32 for c in v):
        return _dq(v)
    return g.r.choice([_dq, _sq])(v) if g.r.random() < 0.8 or flow else _dq(v)


def yaml_doc(g: Gen, tree: dict[str, Any], indent: int) -> str:
    lines: list[str] = []
    _yaml_map(g, tree, 0, indent, lines)
    return "\n".join(lines) + "\n"


def _flowable(v: Any) -> bool:
    return isinstance(v, list) and all(not isinstance(x, dict | list) for x in v)


def _yaml_map(g: Gen, m: dict[str, Any], col: int, indent: int, lines: list[str]) -> None:
    pad = " " * col
    for k, v in m.items():
        if g.r.random() < 0.15:
            lines.append(f"{pad}# comment about {k}")
        key = (
            _dq(k)
            if g.r.random() < 0.2
            else (k if k.replace("_", "").replace("-", "").isalnum() else _dq(k))
        )
        if isinstance(v, dict):
            if not v:
                lines.append(f"{pad}{key}: {{}}")
                continue
            lines.append(f"{pad}{key}:")
            _yaml_map(g, v, col + indent, indent, lines)
        elif isinstance(v, list):
            if not v:
                lines.append(f"{pad}{key}: []")
            elif _flowable(v) and g.r.random() < 0.4:
                lines.append(
                    f"{pad}{key}: [" + ", ".join(_yaml_scalar(g, x, True) for x in v) + "]"
                )
            else:
                lines.append(f"{pad}{key}:")
                _yaml_seq(g, v, col + indent, indent, lines)
        elif (
            isinstance(v, str)
            and "\n" in v
            and not v.startswith((" ", "\n"))
            and not v.endswith("\n\n")
            and g.r.random() < 0.5
            and all(line == line.rstrip() for line in v.split("\n"))
        ):
            chomp = "|" if v.endswith("\n") else "|-"
            lines.append(f"{pad}{key}: {chomp}")
            body = v[:-1] if v.endswith("\n") else v
            lines.extend((" " * (col + indent) + line) if line else "" for line in body.split("\n"))
        else:
            comment = "  # trailing note" if g.r.random() < 0.1 else ""
            lines.append(
                f"{pad}{key}: {_yaml_scalar(g, v, False)}{comment}".rstrip()
                if v is not None
                else f"{pad}{key}:{(' ' + _yaml_scalar(g, v, False)) if g.r.random() < 0.5 else ''}"
            )


def _yaml_seq(g: Gen, seq: list[Any], col: int, indent: int, lines: list[str]) -> None:
    pad = " " * col
    for v in seq:
        if isinstance(v, dict) and v:
            sub: list[str] = []
            _yaml_map(g, v, col + 2, indent, sub)
            first = sub[0]
            if first.lstrip().startswith("#"):
                lines.append(f"{pad}-")
                lines.extend(sub)
            else:
                lines.append(f"{pad}- {first[col + 2 :]}")
                lines.extend(sub[1:])
        elif isinstance(v, dict):
            lines.append(f"{pad}- {{}}")
        else:
            lines.append(f"{pad}- {_yaml_scalar(g, v, False)}" if v is not None else f"{pad}- null")


def expected(v: Any) -> Any:
    """The plain data a YAML/JSON parser should give back (timestamps canonical, as sops writes)."""
    from kseal.sops.gofmt import yaml_timestamp
    from kseal.sops.tree import Timestamp

    if isinstance(v, tuple):
        return Timestamp(yaml_timestamp(v[1]) or "")
    if isinstance(v, dict):
        return {k: expected(x) for k, x in v.items()}
    if isinstance(v, list):
        return [expected(x) for x in v]
    return v


def strip_times(v: Any) -> Any:
    if isinstance(v, tuple):
        return v[1]
    if isinstance(v, dict):
        return {k: strip_times(x) for k, x in v.items()}
    if isinstance(v, list):
        return [strip_times(x) for x in v]
    return v


# ---- other formats ------------------------------------------------------------------------------


def json_doc(g: Gen) -> tuple[str, Any]:
    g.timestamps = False
    tree = g.tree()
    return json.dumps(tree, ensure_ascii=g.r.random() < 0.5, indent=g.r.choice([None, 2])), tree


def dotenv_doc(g: Gen) -> tuple[str, dict[str, str]]:
    out: dict[str, str] = {}
    lines = []
    for i in range(g.r.randint(1, 8)):
        if g.r.random() < 0.2:
            lines.append(f"# note {i}")
        key = g.r.choice(
            ["DB_PASSWORD", "API_TOKEN", "HOST", "PORT", "export FOO", "lower", "K"]
        ) + str(i)
        value = g.text().replace("\\", "/")
        out[key] = value
        lines.append(f"{key}={value.replace(chr(10), chr(92) + 'n')}")
    return "\n".join(lines) + "\n", out


def ini_doc(g: Gen) -> tuple[str, dict[str, dict[str, str]]]:
    out: dict[str, dict[str, str]] = {}
    lines = []
    for s in range(g.r.randint(1, 4)):
        name = g.r.choice(["database", "server", "auth", "cache"]) + str(s)
        if g.r.random() < 0.3:
            lines.append(f"; about {name}")
        lines.append(f"[{name}]")
        out[name] = {}
        for i in range(g.r.randint(1, 5)):
            key = g.r.choice(["password", "user", "host", "port", "token"]) + str(i)
            value = (
                "".join(
                    g.r.choice(string.ascii_letters + string.digits + "-_./@ ")
                    for _ in range(g.r.randint(1, 20))
                ).strip()
                or "v"
            )
            out[name][key] = value
            if g.r.random() < 0.2:
                lines.append(f"# about {key}")
            lines.append(f"{key} = {value}")
        lines.append("")
    return "\n".join(lines), out
