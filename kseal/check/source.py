"""How a file's bytes become text to scan: byte-order marks (UTF-8, UTF-16 and UTF-32), which
files are manifests (also behind template and backup suffixes such as ``.yaml.j2``,
``.yaml.gotmpl``, ``.yaml.bak``), and segments of files too large to hold at once."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator

from kseal.sops.stores import format_for_path

# longest first: the UTF-32 LE mark starts with the UTF-16 LE one
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# suffixes of templates and copies whose content is still the manifest before them
WRAPPER_SUFFIXES = (
    ".j2",
    ".jinja",
    ".jinja2",
    ".tpl",
    ".tmpl",
    ".gotmpl",
    ".template",
    ".bak",
    ".orig",
    ".old",
    ".back",
    ".backup",
    ".save",
    ".swp",
    "~",
)


def encoding(head: bytes) -> tuple[str, int]:
    """The encoding a file's first bytes announce, and the length of its mark (UTF-8 without)."""
    for bom, name in BOMS:
        if head.startswith(bom):
            return name, len(bom)
    return "utf-8", 0


def decode(data: bytes) -> str:
    """Text of ``data``: UTF-8 unless a byte-order mark says UTF-16/32; bad bytes are replaced."""
    name, skip = encoding(data[:4])
    return data[skip:].decode(name, "replace")


def manifest_format(path: str) -> str:
    """The store format of ``path`` once template and backup suffixes are taken off."""
    name = path.rsplit("/", 1)[-1]
    lower = name.lower()
    while True:
        for suffix in WRAPPER_SUFFIXES:
            if lower.endswith(suffix) and len(lower) > len(suffix):
                lower = lower[: -len(suffix)]
                break
        else:
            return format_for_path(lower)


_DOC_START = re.compile(r"(?:---|\.\.\.)(?:[ \t\r\n]|$)")


def segments(
    lines: Iterable[str], *, yaml: bool, size: int, overlap: int = 4
) -> Iterator[tuple[int, str]]:
    """A large file in pieces of about ``size`` characters, each with the number of lines before
    it. YAML is cut where a document starts (or, for a document many times ``size``, anywhere);
    other text at any line, each piece repeating the last ``overlap`` lines of the one before so
    that a key split across the cut is still whole in one of them."""
    buf: list[str] = []
    chars = 0
    start = 0
    for line in lines:
        cut = chars >= size and (
            not yaml or _DOC_START.match(line) is not None or chars >= 16 * size
        )
        if cut:
            yield start, "".join(buf)
            keep = buf[-overlap:] if not yaml else []
            start += len(buf) - len(keep)
            buf = keep
            chars = sum(len(x) for x in keep)
        buf.append(line)
        chars += len(line)
    if buf:
        yield start, "".join(buf)
