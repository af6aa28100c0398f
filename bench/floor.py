"""The least a Python SOPS encryptor/decryptor must do: the floor that bench_sops.py measures kseal against.

Run with the Python of the environment under test (bench_sops.py does):

    python bench/floor.py imports [--typer]                 import what a run needs, then exit
    python bench/floor.py encrypt FILE AGE_RECIPIENT [--typer]
    python bench/floor.py decrypt FILE [--typer]            (identity: $SOPS_AGE_KEY_FILE)

It uses the same native libraries as kseal (ruamel.yaml's libyaml parser, cryptography's AES-GCM,
pyrage, hashlib) and does only the unavoidable work: libyaml events, one AES-GCM operation per
value with its path as AAD, the SHA-512 MAC, the age-wrapped data key, and plain string output for
block mappings of strings (the benchmark's documents). No comments, no other YAML shapes, no
.sops.yaml, no error handling, no safety checks: not a tool, a lower bound. ``--typer`` also
imports Typer, which kseal must use to declare its commands (issue 10), to show what that costs.
"""

from __future__ import annotations

import base64
import os
import sys


def _imports(typer: bool) -> None:
    if typer:
        import typer as _typer  # noqa: F401
    import hashlib  # noqa: F401

    import pyrage  # noqa: F401
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: F401
    from ruamel.yaml.cyaml import CParser  # noqa: F401


def _scalars(text: str) -> list[tuple[list[str], str]]:
    """(path, value) of every scalar value (mapping keys and list indexes make the path)."""
    from ruamel.yaml.cyaml import CParser
    from ruamel.yaml.events import (
        MappingEndEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceEndEvent,
        SequenceStartEvent,
    )

    parser = CParser(text)
    out: list[tuple[list[str], str]] = []
    path: list[str] = []
    frames: list[list[object]] = []  # ["map", expecting a key] or ["seq", next index]

    def item_done() -> None:
        if frames and frames[-1][0] == "map":
            path.pop()
            frames[-1][1] = True
        elif frames:
            path.pop()
            frames[-1][1] = int(frames[-1][1]) + 1  # type: ignore[call-overload]

    def item_start() -> None:
        if frames and frames[-1][0] == "seq":
            path.append(str(frames[-1][1]))

    while True:
        event = parser.get_event()
        kind = type(event)
        if event is None or kind.__name__ == "StreamEndEvent":
            break
        if kind is MappingStartEvent or kind is SequenceStartEvent:
            item_start()
            frames.append(["map", True] if kind is MappingStartEvent else ["seq", 0])
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            frames.pop()
            item_done()
        elif kind is ScalarEvent:
            if frames[-1][0] == "map" and frames[-1][1]:
                path.append(event.value)
                frames[-1][1] = False
            else:
                item_start()
                out.append((path[:], event.value))
                item_done()
    parser.dispose()
    return out


def _emit(values: list[tuple[list[str], str]]) -> list[str]:
    lines: list[str] = []
    open_path: list[str] = []
    for path, value in values:
        common = 0
        while (
            common < len(open_path) and common < len(path) - 1 and open_path[common] == path[common]
        ):
            common += 1
        for depth in range(common, len(path) - 1):
            lines.append("    " * depth + path[depth] + ":")
        open_path = path[:-1]
        lines.append("    " * (len(path) - 1) + f"{path[-1]}: {value}")
    return lines


def _enc(aead: object, value: bytes, aad: bytes) -> str:
    iv = os.urandom(32)
    sealed = aead.encrypt(iv, value, aad)  # type: ignore[attr-defined]
    b64 = base64.b64encode
    return (
        f"ENC[AES256_GCM,data:{b64(sealed[:-16]).decode()},iv:{b64(iv).decode()},"
        f"tag:{b64(sealed[-16:]).decode()},type:str]"
    )


def _dec(aead: object, enc: str, aad: bytes) -> bytes:
    fields = dict(part.split(":", 1) for part in enc[15:-1].split(","))
    b64d = base64.b64decode
    plain: bytes = aead.decrypt(  # type: ignore[attr-defined]
        b64d(fields["iv"]), b64d(fields["data"]) + b64d(fields["tag"]), aad
    )
    return plain


def encrypt(path: str, recipient: str) -> None:
    import hashlib

    import pyrage
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    values = _scalars(open(path, encoding="utf-8").read())
    key = os.urandom(32)
    aead = AESGCM(key)
    mac = hashlib.sha512()
    out = []
    for keys, value in values:
        raw = value.encode()
        mac.update(raw)
        out.append((keys, _enc(aead, raw, (":".join(keys) + ":").encode())))
    stamp = "2026-01-01T00:00:00Z"
    wrapped = pyrage.encrypt(key, [pyrage.x25519.Recipient.from_str(recipient)], armored=True)
    lines = _emit(out)
    lines += ["sops:", "    age:", f"        - recipient: {recipient}", "          enc: |"]
    lines += ["            " + line for line in wrapped.decode().splitlines()]
    lines += [
        f'    lastmodified: "{stamp}"',
        f"    mac: {_enc(aead, mac.hexdigest().upper().encode(), stamp.encode())}",
        "    version: 3.11.0",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


def decrypt(path: str) -> None:
    import hashlib

    import pyrage
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    values = _scalars(open(path, encoding="utf-8").read())
    meta = {tuple(keys[1:]): value for keys, value in values if keys[0] == "sops"}
    meta[("age", "enc")] = meta[("age", "0", "enc")]
    identity_text = open(os.environ["SOPS_AGE_KEY_FILE"], encoding="utf-8").read()
    secret = next(line for line in identity_text.splitlines() if line.startswith("AGE-SECRET-KEY-"))
    identity = pyrage.x25519.Identity.from_str(secret)
    key = pyrage.decrypt(meta[("age", "enc")].encode(), [identity])
    aead = AESGCM(key)
    mac = hashlib.sha512()
    out = []
    for keys, value in values:
        if keys[0] == "sops":
            continue
        plain = _dec(aead, value, (":".join(keys) + ":").encode())
        mac.update(plain)
        out.append((keys, plain.decode()))
    stamp = meta[("lastmodified",)]
    if _dec(aead, meta[("mac",)], stamp.encode()).decode() != mac.hexdigest().upper():
        sys.exit("floor: MAC mismatch")
    sys.stdout.write("\n".join(_emit(out)) + "\n")


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--typer"]
    _imports("--typer" in sys.argv)
    if args[0] == "encrypt":
        encrypt(args[1], args[2])
    elif args[0] == "decrypt":
        decrypt(args[1])


if __name__ == "__main__":
    main()
