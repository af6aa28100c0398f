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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kseal import agekey
from kseal.errors import KeyMaterialError, KeyRetrievalError
from kseal.fileio import warn_if_exposed
from kseal.sops import keygroups
from kseal.sops.metadata import KeyGroup, Metadata

# Asks for the passphrase of the named identity file; None when nobody can answer (no terminal).
Passphrase = Callable[[str], "str | None"]


@dataclass
class Discovery:
    identities: list[agekey.Identity] = field(default_factory=list)
    report: list[str] = field(default_factory=list)
    locked: list[tuple[str, bytes]] = field(default_factory=list)

    def unlock(self, passphrase: Passphrase | None) -> bool:
        """Open the passphrase-protected identity files (once); True when any identity was added."""
        added = False
        locked, self.locked = self.locked, []
        for label, data in locked:
            if passphrase is None:
                self.report.append(f"{label}: passphrase-protected, and no terminal to ask on")
                continue
            answer = passphrase(label)
            if answer is None:
                self.report.append(f"{label}: passphrase-protected, and no terminal to ask on")
                continue
            try:
                identities = agekey.unlock_identities(data, answer, label)
            except KeyMaterialError as exc:
                self.report.append(exc.message)
                continue
            self.identities.extend(identities)
            n = len(identities)
            self.report.append(f"{label}: unlocked, {n} identit{'y' if n == 1 else 'ies'}")
            added = added or bool(identities)
        return added


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
        raw = path.read_bytes()
    except FileNotFoundError:
        if not optional:
            found.report.append(f"{label}: file not found")
        return
    except OSError as exc:
        found.report.append(f"{label}: cannot read ({exc.strerror})")
        return
    warn_if_exposed(path, "age identity file")
    if agekey.is_passphrase_protected(raw):
        found.locked.append((label, raw))
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        found.report.append(f"{label}: cannot read (not a text file)")
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
    return agekey.split_recipients(env.get("SOPS_AGE_RECIPIENTS", ""))


def unwrap_data_key(
    metadata: Metadata,
    env: Mapping[str, str],
    home: Path,
    passphrase: Passphrase | None = None,
) -> bytes:
    """The file's data key, unwrapped by the discovered identities, or a fully explained error.

    With several key groups, each group that one of the identities can open gives a Shamir share;
    passphrase-protected identity files are unlocked only when the plain ones are not enough.
    """
    entries = metadata.age_keys
    found = discover(env, home, recipient=entries[0].recipient if entries else "")

    def attempt() -> bytes:
        return keygroups.open_key(metadata, lambda group: _open_group(group, found))

    try:
        return attempt()
    except KeyRetrievalError as first:
        if not found.locked or not found.unlock(passphrase):
            raise _explain(metadata, found, first) from None
    try:
        return attempt()
    except KeyRetrievalError as second:
        raise _explain(metadata, found, second) from None


def _open_group(group: KeyGroup, found: Discovery) -> bytes | str:
    if not group.age:
        others = ", ".join(sorted(k for k in group.other if group.other[k]))
        return f"it has no age keys (only {others or 'nothing'})"
    if not found.identities:
        return "no identities found"
    mine = {i.public for i in found.identities if i.public}
    for entry in sorted(group.age, key=lambda e: e.recipient not in mine):
        try:
            return agekey.unwrap_key(entry.enc, found.identities)
        except KeyRetrievalError:
            continue
    return (
        "none of your identities opens it (recipients: "
        + ", ".join(agekey.abbreviate(e.recipient) for e in group.age)
        + ")"
    )


def _explain(metadata: Metadata, found: Discovery, exc: KeyRetrievalError) -> KeyRetrievalError:
    if len(metadata.groups) <= 1:
        return no_identity_error(metadata, found)
    base = no_identity_error(metadata, found)
    return KeyRetrievalError(exc.message, hints=[*exc.hints, *base.hints[1:]])


def no_identity_error(metadata: Metadata, found: Discovery) -> KeyRetrievalError:
    hints: list[str] = []
    recipients = [agekey.abbreviate(e.recipient) for e in metadata.age_keys]
    others = sorted(k for g in metadata.groups for k in g.other if g.other[k])
    if recipients:
        hints.append("the file is encrypted for: " + ", ".join(recipients))
    if others:
        hints.append("it also has keys kseal does not use: " + ", ".join(others))
    publics = sorted({agekey.abbreviate(i.public) for i in found.identities if i.public})
    if publics:
        hints.append("your identities are for: " + ", ".join(publics))
    hints.extend(f"tried {line}" for line in found.report)
    if not found.identities:
        hints.append("put your age key in ~/.config/sops/age/keys.txt or set SOPS_AGE_KEY_FILE")
    return KeyRetrievalError("no identity could decrypt the data key", hints=hints)
