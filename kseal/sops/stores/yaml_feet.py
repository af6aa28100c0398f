"""Which collection a run of comments before a dedent belongs to, the way yaml.v3 decides.

sops reads YAML with yaml.v3, and a comment's place in the tree is part of its authenticated data,
so kseal must attach comments where yaml.v3 does. Before a line that is indented less than the
current block, yaml.v3 splits the comment lines into groups wherever the indentation drops below
the block's and changes. The first group, when split off, is a foot comment of the last value and
stays in its collection. Each later group belongs after the first block that ends at or after it;
a block ends before the earliest of the groups that follow it and start at its own indentation.
Whatever belongs to no ending block precedes the next item.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_BLANK_LINE = re.compile(r"\n[ \t]*\r?\n")


def refile(
    text: str,
    prev: int,
    at: int,
    found: list[Any],
    starts: list[int],
    frames: Sequence[tuple[int, bool, int]],
) -> list[Any]:
    """The comments ``found`` (column, line, slot) between the last value (ending at ``prev``)
    and a dedented line (at ``at``, their ``starts`` in the text), each with the column of the
    collection yaml.v3 gives it. ``frames`` are the open collections, outermost first: (column,
    is a mapping, column of its current key)."""
    if _BLANK_LINE.search(text, prev, at) or any(
        i and not is_map and frames[i - 1][1] and col == frames[i - 1][2]
        for i, (col, is_map, _key) in enumerate(frames)  # an indentless sequence: no block
    ):
        return found
    cols = [c[0] for c in found]
    own = sum(1 for start in starts if "\n" not in text[prev:start])  # on the value's line
    end = not text[at:].strip() or text[at : at + 3] in ("---", "...")
    next_col = -1 if end else at - (text.rfind("\n", 0, at) + 1)
    inner = [col for col, _is_map, _key in reversed(frames)]
    maps = [is_map for _col, is_map, _key in reversed(frames)]
    feet = foot_columns(cols[own:], inner[0], next_col, inner, maps)
    return found[:own] + [(col, c[1], c[2]) for col, c in zip(feet, found[own:], strict=True)]


def foot_columns(
    comments: Sequence[int],
    indent: int,
    next_col: int,
    frames: Sequence[int],
    maps: Sequence[bool],
) -> list[int]:
    """The column of the collection each comment belongs to.

    ``comments``: the column of each comment line, in order, with no blank lines in between;
    ``indent``: the column of the innermost open block; ``next_col``: the column of the line that
    follows; ``frames``: the columns of the open collections, innermost first, and ``maps``
    whether each is a mapping. A column of -1
    means after the document's top-level collection."""
    if not comments:
        return []
    groups: list[tuple[int, int]] = []  # (first line, end) per group
    first = 0
    end = next_col < 0  # the end of the document splits nothing
    for i in range(1, len(comments) + (0 if end else 1)):
        col = comments[i] if i < len(comments) else next_col
        if col < indent and col != comments[first]:
            groups.append((first, i))
            first = i
    split = bool(groups)
    if first < len(comments):
        groups.append((first, len(comments)))
    closed = [col for col in frames if col > next_col]
    if not split and not end:  # one head comment of the next item
        return [frames[len(closed)] if len(closed) < len(frames) else -1] * len(comments)
    marks: list[int] = []  # per closing block: the group it ends before (-1: before them all)
    mark = -1
    for col in closed:
        for g in range(max(mark, 0), len(groups)):
            if comments[groups[g][0]] == col:
                mark = g
                break
        marks.append(mark)
    out: list[int] = []
    for g, (start, stop) in enumerate(groups):
        if g == 0 and (split or comments[0] >= indent):
            target = frames[0]
        else:
            ended = next((f for f, m in enumerate(marks) if m >= g), None)
            if ended is None:  # then it precedes the next item
                at = len(closed)
            else:  # a foot of the block: a mapping keeps it last, a sequence passes it up
                at = ended if maps[ended] else ended + 1
            target = frames[at] if at < len(frames) else -1
        out.extend([target] * (stop - start))
    return out
