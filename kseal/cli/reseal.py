"""``kseal reseal``: re-encrypt SealedSecrets offline from old private keys to a new certificate.

For key rotation and migration between clusters. Each value keeps its label (scope, name and
namespace from the SealedSecret's metadata); files keep their format. A file that fails is
reported and left untouched; the others go on.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from kseal.cli.sealing import ENV
from kseal.errors import ExitCode, KsealError


def _targets(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.suffix in (".yaml", ".yml", ".json") and p.is_file()
                )
            )
        else:
            found.append(path)
    return found


def _reseal_file(path: Path, old: list[Any], new_cert: Any) -> bool:
    """Re-encrypt one file in place; False when it holds no SealedSecret."""
    from kseal import manifests, sealed_edits, secret
    from kseal.fileio import read_input, write_output

    raw = read_input(str(path))
    if b"SealedSecret" not in raw:
        return False
    docs = manifests.load(raw)
    changed = False
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") != secret.KIND:
            continue
        sealed_edits.reseal_sealed_secret(doc, old, new_cert.public_key, new_cert.fingerprint)
        changed = True
    if changed:
        as_json = raw.lstrip().startswith(b"{")
        text = "".join(manifests.dump_json(d) if as_json else manifests.dump_yaml(d) for d in docs)
        write_output(str(path), text.encode(), plaintext=False)
    return changed


def reseal(
    paths: Annotated[
        list[str], typer.Argument(metavar="PATH...", help="SealedSecret files or directories.")
    ],
    private_key: Annotated[
        list[str],
        typer.Option(
            "-k", "--private-key", help="Old private key PEM or key Secret backup (repeatable)."
        ),
    ],
    cert: Annotated[
        str,
        typer.Option("--cert", envvar=ENV + "CERT", help="The new certificate (file or URL)."),
    ],
) -> None:
    """Re-encrypt SealedSecrets for a new certificate, offline, keeping every scope."""
    from kseal.cli import ui
    from kseal.cli.sealing import private_keys, read_cert

    old = private_keys(private_key, "-k/--private-key")
    new_cert = read_cert(cert)
    new_cert.check_valid(datetime.now(UTC))
    files = _targets(paths)
    done, skipped, failed = 0, 0, []
    with ui.counting("resealing", len(files)) as step:
        for path in files:
            try:
                if _reseal_file(path, old, new_cert):
                    done += 1
                else:
                    skipped += 1
            except KsealError as err:
                failed.append(f"{path}: {err.message}")
            step()
    for line in failed:
        sys.stderr.write(f"kseal: error: {line}\n")
    sys.stderr.write(
        f"resealed {done} file(s), skipped {skipped} without SealedSecrets, {len(failed)} failed\n"
    )
    if failed:
        raise typer.Exit(ExitCode.GENERIC)


def register(app: typer.Typer) -> None:
    app.command("reseal")(reseal)
