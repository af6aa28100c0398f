"""Reading YAML as a YAML 1.1 reader does (kubectl's go-yaml v2, PyYAML): for output checks."""

from __future__ import annotations

import warnings
from typing import Any


def load(text: str, version: tuple[int, int] = (1, 1)) -> Any:
    """The single document of ``text`` with ruamel's YAML ``version`` resolver (pure Python)."""
    from ruamel.yaml import YAML  # noqa: TID251 - a YAML 1.1 reader, to check output only

    yaml = YAML(typ="safe", pure=True)
    yaml.version = version
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return yaml.load(text)
