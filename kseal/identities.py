"""Finding the age identities that may decrypt a file, and explaining failures.

Every identity source sops knows is tried and combined, plus kseal's own ``KSEAL_AGE_KEY`` and
``KSEAL_AGE_KEY_FILE``. The environment and home directory are parameters, so tests can inject
them. Each source gets a line in a report, which becomes the hints of the error when no identity
can decrypt the data key: the most common sops complaint is a bare "failed to get the data key".
Reports name files, variables and line numbers, never key material.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kseal import agekey
from kseal.errors import KeyMaterialError, KeyRetrievalError
from kseal.sops.metadata import Metadata


@dataclass
class Discovery:
    identities: list[agekey.Identity] = field(default_factory=list)
    report: list[str] = field(default_factory=list)


def _add(found: Discovery, label: str, text: str) -> None:
    try:
        identities = agekey.parse_identities(text, label)
    except KeyMaterialError as exc:
        found.report.append(f"{exc.message}")
        return
    if not identities:
        found.report.append(f"{label}: no identity in it")
        return
    found.identities.extend(identities)
    n = len(identities)
    found.report.append(f"{label}: {n} identit{'y' if n == 1 else 'ies'}")


def _read_file(found: Discovery, label: str, path: Path, *, optional: bool) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if not optional:
            found.report.append(f"{label}: file not found")
        return
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a text file"
        found.report.append(f"{label}: cannot read ({reason})")
        return
    if "BEGIN AGE ENCRYPTED FILE" in text or text.startswith("age-encryption.org/"):
        found.report.append(f"{label}: passphrase-protected identity files are not supported yet")
        return
    if "ENCRYPTED" in text and "OPENSSH" in text:
        found.report.append(f"{label}: encrypted SSH keys are not supported")
        return
    _add(found, label, text)


def default_keys_path(env: Mapping[str, str], home: Path) -> Path:
    config = env.get("XDG_CONFIG_HOME") or str(home / ".config")
    return Path(config) / "sops" / "age" / "keys.txt"


def discover(env: Mapping[str, str], home: Path, *, recipient: str = "") -> Discovery:
    found = Discovery()
    if env.get("SOPS_AGE_SSH_PRIVATE_KEY_FILE"):
        path = env["SOPS_AGE_SSH_PRIVATE_KEY_FILE"]
        _read_file(found, f"SOPS_AGE_SSH_PRIVATE_KEY_FILE={path}", Path(path), optional=False)
    else:
        for name in ("id_ed25519", "id_rsa"):
            path_ = home / ".ssh" / name
            if path_.exists():
                _read_file(found, f"~/.ssh/{name}", path_, optional=True)
                break
    for var in ("SOPS_AGE_KEY", "KSEAL_AGE_KEY"):
        if env.get(var):
            _add(found, var, env[var])
    for var in ("SOPS_AGE_KEY_FILE", "KSEAL_AGE_KEY_FILE"):
        if env.get(var):
            _read_file(found, f"{var}={env[var]}", Path(env[var]), optional=False)
    if env.get("SOPS_AGE_KEY_CMD"):
        _run_command(found, env, recipient)
    default = default_keys_path(env, home)
    label = str(default).replace(str(home), "~", 1)
    if default.exists():
        _read_file(found, label, default, optional=True)
    else:
        found.report.append(f"{label}: not present")
    return found


def _run_command(found: Discovery, env: Mapping[str, str], recipient: str) -> None:
    label = "SOPS_AGE_KEY_CMD"
    try:
        argv = shlex.split(env["SOPS_AGE_KEY_CMD"])
    except ValueError:
        found.report.append(f"{label}: cannot parse the command line")
        return
    try:
        result = subprocess.run(
            argv,
            capture_output=True,
            env={**env, "SOPS_AGE_RECIPIENT": recipient},
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        found.report.append(
            f"{label}: cannot run {argv[0] if argv else ''!r} ({type(exc).__name__})"
        )
        return
    if result.returncode != 0:
        found.report.append(f"{label}: the command exited {result.returncode}")
        return
    _add(found, label, result.stdout.decode("utf-8", "replace"))


def recipients_from_env(env: Mapping[str, str]) -> list[str]:
    return [r.strip() for r in env.get("SOPS_AGE_RECIPIENTS", "").split(",") if r.strip()]


def unwrap_data_key(metadata: Metadata, env: Mapping[str, str], home: Path) -> bytes:
    """The file's data key, unwrapped by any discovered identity, or a fully explained error."""
    if len(metadata.groups) > 1:
        raise KeyRetrievalError(
            f"this file uses {len(metadata.groups)} key groups (Shamir secret sharing), which "
            "kseal cannot decrypt yet",
            hints=["decrypt it with sops for now"],
        )
    entries = metadata.age_keys
    found = discover(env, home, recipient=entries[0].recipient if entries else "")
    if entries and found.identities:
        mine = {i.public for i in found.identities if i.public}
        ordered = sorted(entries, key=lambda e: e.recipient not in mine)
        for entry in ordered:
            try:
                return agekey.unwrap_key(entry.enc, found.identities)
            except KeyRetrievalError:
                continue
    raise no_identity_error(metadata, found)


def no_identity_error(metadata: Metadata, found: Discovery) -> KeyRetrievalError:
    hints: list[str] = []
    recipients = [e.recipient for e in metadata.age_keys]
    others = sorted(k for g in metadata.groups for k in g.other if g.other[k])
    if recipients:
        hints.append("the file is encrypted for: " + ", ".join(recipients))
    if others:
        hints.append("it also has keys kseal does not use: " + ", ".join(others))
    publics = sorted({i.public for i in found.identities if i.public})
    if publics:
        hints.append("your identities are for: " + ", ".join(publics))
    hints.extend(f"tried {line}" for line in found.report)
    if not found.identities:
        hints.append("put your age key in ~/.config/sops/age/keys.txt or set SOPS_AGE_KEY_FILE")
    return KeyRetrievalError("no identity could decrypt the data key", hints=hints)


def identities_summary(identities: Sequence[agekey.Identity]) -> str:
    return ", ".join(sorted({i.source for i in identities}))
