"""The files ``kseal check`` reads: the walk over the paths it is given, each file's
``.sops.yaml`` rule (one config load per directory), the allowlist from ``.kseal.yaml`` or
``pyproject.toml``, and large files streamed."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from kseal.errors import ConfigError, ConflictError, ExitCode
from kseal.filewalk import files_under

if TYPE_CHECKING:
    from kseal.check.model import Finding
    from kseal.check.scan import Options
    from kseal.check.sopsrules import VerifyMac
    from kseal.check.suppress import Allow
    from kseal.sops.config import Config, CreationRule

# files larger than this are read line by line, in segments (scan.scan_stream)
STREAM_BYTES = 10 << 20


def walk(paths: list[str]) -> Iterator[str]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for found in files_under(path):
                yield _rel(found)
        elif path.is_file():
            yield _rel(path)
        elif not path.exists():
            raise ConflictError(f"{raw}: no such file or directory", exit_code=ExitCode.INPUT)


def _rel(path: Path) -> str:
    text = os.path.normpath(str(path)).replace(os.sep, "/")
    return text[2:] if text.startswith("./") else text


class Rules:
    """The .sops.yaml creation rule for each file, one config load per directory."""

    def __init__(self) -> None:
        self._configs: dict[str, Config | None] = {}

    def config(self, directory: Path) -> Config | None:
        key = str(directory)
        if key not in self._configs:
            from kseal.sops.config import find_config, load_config

            found = find_config(directory)
            self._configs[key] = (
                load_config(found.read_text(encoding="utf-8"), found) if found else None
            )
        return self._configs[key]

    def __call__(self, path: str) -> CreationRule | None:
        from kseal.errors import NoMatchingRuleError

        cfg = self.config(Path(path).parent)
        if cfg is None:
            return None
        try:
            return cfg.rule_for(Path(path))
        except NoMatchingRuleError:
            return None


def read(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except OSError:
        return None


def _scan_large(path: str, options: Options) -> list[Finding] | None:
    """A large file, streamed: decoded by its byte-order mark, never held whole."""
    import io

    from kseal.check.scan import scan_stream
    from kseal.check.source import encoding

    try:
        with open(path, "rb") as raw:
            name, skip = encoding(raw.read(4))
            raw.seek(skip)
            text = io.TextIOWrapper(raw, encoding=name, errors="replace", newline="")
            return scan_stream(path, text, options)
    except OSError:
        return None


def allowlist(start: Path) -> list[Allow]:
    """``check.allow`` from the nearest ``.kseal.yaml``, else ``[tool.kseal.check]`` of the
    nearest ``pyproject.toml``."""
    from kseal.check.suppress import parse_allowlist

    for directory in (start, *start.parents):
        kseal_yaml = directory / ".kseal.yaml"
        if kseal_yaml.is_file():
            from kseal.yamlio import safe_load_all

            docs = safe_load_all(kseal_yaml.read_text(encoding="utf-8"))
            raw = docs[0] if docs else None
            check = raw.get("check") if isinstance(raw, dict) else None
            allow = check.get("allow") if isinstance(check, dict) else None
            return parse_allowlist(allow, str(kseal_yaml))
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            import tomllib

            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{pyproject}: {exc}") from None
            section = data.get("tool", {}).get("kseal", {}).get("check")
            if section is not None:
                return parse_allowlist(section.get("allow"), f"{pyproject} [tool.kseal.check]")
        if (directory / ".git").exists():
            break
    return []


def scan_paths(
    paths: list[str],
    *,
    verifier: Callable[[str], VerifyMac] | None,
    sealing_keys: list[object],
) -> tuple[list[Finding], int]:
    """The findings in every file under ``paths``, and how many files were read; ``verifier``
    gives the MAC check of a path (``--verify-mac``)."""
    from kseal.check.scan import Options, scan_bytes

    rules = Rules()
    findings: list[Finding] = []
    count = 0
    for path in walk(paths):
        options = Options(
            rule_for=rules,
            read=read,
            verify_mac=verifier(path) if verifier else None,
            sealing_keys=sealing_keys,
        )
        try:
            large = os.path.getsize(path) > STREAM_BYTES
        except OSError:
            continue
        if large:
            found = _scan_large(path, options)
        else:
            data = read(path)
            found = None if data is None else scan_bytes(path, data, options)
        if found is None:
            continue
        count += 1
        findings.extend(found)
    return findings, count
