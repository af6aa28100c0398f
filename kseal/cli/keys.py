"""``kseal keys``: sealing keys you own (``generate``) and the controller's keys (``backup``,
``restore``, ``list``).

A backup is one SOPS document (a Kubernetes ``List`` of the key Secrets, every ``data`` value
encrypted for age recipients), built and read in memory: the plaintext never touches disk.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kseal.cli.sealing import ENV
from kseal.errors import ConflictError, KsealError

if TYPE_CHECKING:
    from kseal.controllerkeys import KeyInfo

keys_app = typer.Typer(
    help="Sealing keys you own, and the controller's keys: backup, restore, list.",
    no_args_is_help=True,
)

Namespace = Annotated[
    str,
    typer.Option(
        "--controller-namespace",
        envvar=ENV + "CONTROLLER_NAMESPACE",
        help="The controller's namespace (where its key Secrets live).",
    ),
]
Kubeconfig = Annotated[str | None, typer.Option("--kubeconfig", envvar=ENV + "KUBECONFIG")]
Context = Annotated[str | None, typer.Option("--context", help="The kubeconfig context.")]


@keys_app.command("generate")
def keys_generate(
    key_out: Annotated[str, typer.Option("--key", help="Write the private key here (mode 0600).")],
    cert_out: Annotated[str, typer.Option("--cert", help="Write the certificate here.")],
    bits: Annotated[int, typer.Option("--bits", min=2048, help="RSA key size.")] = 4096,
    common_name: Annotated[
        str, typer.Option("--cn", help="Certificate subject CN (the controller uses none).")
    ] = "",
    days: Annotated[int, typer.Option("--days", min=1, help="Certificate validity.")] = 3650,
) -> None:
    """Generate an RSA key pair with a controller-style self-signed certificate."""
    from datetime import timedelta

    from kseal import keys
    from kseal.errors import OutputError
    from kseal.fileio import write_output

    for path in (key_out, cert_out):
        if Path(path).exists():
            raise OutputError(f"{path}: file exists; refusing to overwrite key material")
    private_pem, cert_pem = keys.generate(
        datetime.now(UTC), bits=bits, common_name=common_name, ttl=timedelta(days=days)
    )
    write_output(key_out, private_pem, plaintext=True)
    write_output(cert_out, cert_pem, plaintext=False)
    sys.stderr.write(f"fingerprint: {keys.load_certificate(cert_pem).fingerprint}\n")


# --- reading the cluster and the backup ---------------------------------------------------------


def _cluster_keys(
    namespace: str, kubeconfig: str | None, context: str | None
) -> list[dict[str, Any]]:
    from kseal.cluster import connect
    from kseal.cluster.keys import read_key_secrets

    return read_key_secrets(connect(kubeconfig, context), namespace)


def _readable(secrets: list[dict[str, Any]]) -> list[KeyInfo]:
    """The facts of every readable key Secret; a warning (naming the Secret only) for others."""
    from kseal.controllerkeys import key_info
    from kseal.errors import KeyMaterialError
    from kseal.fileio import warn

    out = []
    for secret in secrets:
        try:
            out.append(key_info(secret))
        except KeyMaterialError as exc:
            warn(f"skipping an unreadable key Secret: {exc.message}")
    return out


def _read_backup(path: str) -> list[dict[str, Any]]:
    """The key Secrets of the backup ``path``, decrypted in memory."""
    from kseal.cli.common import unwrap
    from kseal.controllerkeys import secrets_of_backup
    from kseal.fileio import read_input
    from kseal.sops import engine
    from kseal.sops.stores import get_store
    from kseal.sops.stores.base import format_for_path

    fmt = "json" if format_for_path(path) == "json" else "yaml"
    plain = engine.decrypt(read_input(path), get_store(fmt), get_store("json"), unwrap=unwrap)
    try:
        return secrets_of_backup(json.loads(plain))
    except KsealError as exc:
        raise type(exc)(f"{path}: {exc.message}", hints=exc.hints) from None


def _encrypt_backup(doc: dict[str, Any], output: str, age: list[str], config: str | None) -> bytes:
    import os

    from kseal import agekey
    from kseal.cli.creation import recipients_and_rules
    from kseal.controllerkeys import BACKUP_ENCRYPTED_REGEX
    from kseal.sops import engine
    from kseal.sops.rules import Rules
    from kseal.sops.stores import get_store
    from kseal.sops.stores.base import format_for_path

    groups, threshold, _ = recipients_and_rules(",".join(age) or None, output, None, config)
    for group in groups:
        for recipient in group:
            agekey.parse_recipient(recipient)
    options = engine.EncryptOptions(
        groups=groups,
        rules=Rules(encrypted_regex=BACKUP_ENCRYPTED_REGEX),
        shamir_threshold=threshold,
    )
    fmt = "json" if format_for_path(output) == "json" else "yaml"
    return engine.encrypt(
        json.dumps(doc).encode(),
        get_store("json"),
        get_store(fmt),
        options,
        wrap=agekey.wrap_key,
        random=os.urandom,
        now=datetime.now(UTC),
        verify=True,
    )


# --- backup -------------------------------------------------------------------------------------


@keys_app.command("backup")
def keys_backup(
    output: Annotated[
        str | None,
        typer.Option("-o", "--output", help="Write the encrypted backup here (mode 0600)."),
    ] = None,
    age: Annotated[
        list[str] | None,
        typer.Option(
            "--age",
            metavar="RECIPIENT",
            help="age recipient (repeatable or comma-separated; default: SOPS_AGE_RECIPIENTS "
            "or the .sops.yaml rule for FILE).",
        ),
    ] = None,
    check: Annotated[
        str | None,
        typer.Option(
            "--check",
            metavar="FILE",
            help="Do not write: exit 1 if the backup FILE lacks a key the cluster has.",
        ),
    ] = None,
    config: Annotated[str | None, typer.Option("--config", help="The .sops.yaml to use.")] = None,
    controller_namespace: Namespace = "kube-system",
    kubeconfig: Kubeconfig = None,
    context: Context = None,
) -> None:
    """Back up the controller's key Secrets into one SOPS file (encrypted for age), or check one.

    Exit status: 0 done (with --check: the backup holds every key of the cluster); 1 with
    --check when the cluster has a key the backup lacks (the missing fingerprints are listed).
    """
    if (output is None) == (check is None):
        raise ConflictError(
            "give either -o FILE (write a backup) or --check FILE (check one)",
            hints=["kseal keys backup -o keys.sops.yaml --age age1..."],
        )
    secrets = _cluster_keys(controller_namespace, kubeconfig, context)
    if check is not None:
        _check_backup(check, secrets, controller_namespace)
        return
    assert output is not None  # noqa: S101 - checked above
    _write_backup(output, secrets, age or [], config, controller_namespace)


def _write_backup(
    output: str, secrets: list[dict[str, Any]], age: list[str], config: str | None, ns: str
) -> None:
    from kseal.controllerkeys import backup_document
    from kseal.fileio import write_output

    if not secrets:
        raise KsealError(
            f"no key Secrets found in namespace {ns}",
            hints=["pass --controller-namespace NS (where the controller runs)"],
        )
    readable = _readable(secrets)
    data = _encrypt_backup(backup_document(secrets), output, age, config)
    write_output(output, data, plaintext=True)
    sys.stderr.write(f"backed up {len(secrets)} key Secret(s) from {ns} to {output}:\n")
    for key in readable:
        sys.stderr.write(f"  {key.fingerprint}  {key.secret_name}\n")


def _check_backup(path: str, secrets: list[dict[str, Any]], ns: str) -> None:
    from kseal.controllerkeys import missing_from_backup

    cluster = _readable(secrets)
    backup = _readable(_read_backup(path))
    missing = missing_from_backup(cluster, backup)
    if missing:
        for key in missing:
            sys.stderr.write(f"missing: {key.fingerprint}  {key.secret_name}\n")
        raise KsealError(
            f"{path} lacks {len(missing)} of the {len(cluster)} key(s) in namespace {ns}: "
            + ", ".join(k.fingerprint for k in missing),
            hints=[f"make a new backup: kseal keys backup -o {path} --age RECIPIENT"],
        )
    sys.stderr.write(f"{path} holds all {len(cluster)} key(s) in namespace {ns}\n")


# --- restore ------------------------------------------------------------------------------------


@keys_app.command("restore")
def keys_restore(
    file: Annotated[str, typer.Argument(metavar="FILE", help="The backup (a SOPS file).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be created; write nothing.")
    ] = False,
    controller_namespace: Annotated[
        str | None,
        typer.Option(
            "--controller-namespace",
            envvar=ENV + "CONTROLLER_NAMESPACE",
            help="Restore into this namespace (default: the one the keys were backed up from).",
        ),
    ] = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
) -> None:
    """Create the backed-up key Secrets in the cluster, before or after the controller starts.

    Existing identical key Secrets are left unchanged; a different Secret under the same name is
    an error (exit 8) and nothing is written: restore never overwrites. A running controller picks
    the keys up without a restart.
    """
    from kseal.cluster import connect
    from kseal.cluster.keys import get_secret
    from kseal.controllerkeys import name_of, restore_plan

    backup = _read_backup(file)
    readable = {k.secret_name: k.fingerprint for k in _readable(backup)}
    namespace = controller_namespace or _backup_namespace(backup)
    api = connect(kubeconfig, context)
    existing = {name_of(s): get_secret(api, namespace, name_of(s)) for s in backup}
    plan = restore_plan(backup, existing, namespace)
    for body, action in plan:
        result = _apply(api, namespace, body, action, dry_run)
        name = name_of(body)
        sys.stderr.write(
            f"{result}: {namespace}/{name}  {readable.get(name, '(unreadable key)')}\n"
        )


def _backup_namespace(backup: list[dict[str, Any]]) -> str:
    for secret in backup:
        ns = (secret.get("metadata") or {}).get("namespace")
        if isinstance(ns, str) and ns:
            return ns
    return "kube-system"


def _apply(api: Any, namespace: str, body: dict[str, Any], action: str, dry_run: bool) -> str:
    from kseal.cluster.keys import create_secret, get_secret
    from kseal.controllerkeys import name_of, restore_plan

    if action == "unchanged":
        return "would leave unchanged" if dry_run else "unchanged"
    if dry_run:
        return "would create"
    if create_secret(api, namespace, body):
        return "created"
    # created meanwhile (the controller, another restore): identical is fine, else a conflict
    current = get_secret(api, namespace, name_of(body))
    restore_plan([body], {name_of(body): current}, namespace)
    return "unchanged"


# --- list ---------------------------------------------------------------------------------------


@keys_app.command("list")
def keys_list(
    sealed: Annotated[
        str | None,
        typer.Option(
            "--sealed",
            metavar="DIR",
            help="Also count the SealedSecrets under DIR per key (kseal.dev/sealing-key).",
        ),
    ] = None,
    controller_namespace: Namespace = "kube-system",
    kubeconfig: Kubeconfig = None,
    context: Context = None,
) -> None:
    """List the controller's keys: fingerprint, age, expiry, and the active (sealing) one."""
    from kseal.controllerkeys import count_sealed, orphaned, rows

    keys = _readable(_cluster_keys(controller_namespace, kubeconfig, context))
    counts = count_sealed(_sealing_keys_under(Path(sealed))) if sealed is not None else None
    table = rows(keys, datetime.now(UTC), counts)
    header = ["FINGERPRINT", "SECRET", "STATE", "AGE", "EXPIRES"]
    lines = [
        [r.fingerprint, r.secret_name, r.state, r.age, r.expires]
        + ([] if r.sealed is None else [str(r.sealed)])
        for r in table
    ]
    _print_columns([header + (["SEALED"] if counts is not None else []), *lines])
    if counts is not None:
        _print_sealed_notes(counts, orphaned(counts, keys))


def _print_columns(table: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        sys.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        sys.stdout.write("\n")


def _print_sealed_notes(counts: dict[str, int] | Any, lost: dict[str, int]) -> None:
    from kseal.controllerkeys import UNKNOWN

    for fp, n in sorted(lost.items()):
        sys.stdout.write(f"{n} SealedSecret(s) sealed with {fp}, a key the cluster no longer has\n")
    if counts.get(UNKNOWN):
        sys.stdout.write(
            f"{counts[UNKNOWN]} SealedSecret(s) without the kseal.dev/sealing-key annotation "
            "(key unknown)\n"
        )


def _sealing_keys_under(directory: Path) -> list[str]:
    """The ``kseal.dev/sealing-key`` annotation ("" if none) of every SealedSecret under
    ``directory`` (YAML and JSON files; unreadable files are skipped)."""
    from kseal import manifests, secret
    from kseal.filewalk import files_under

    if not directory.is_dir():
        raise KsealError(f"{directory}: not a directory")
    found: list[str] = []
    for path in files_under(directory):
        if path.suffix.lower() not in (".yaml", ".yml", ".json"):
            continue
        try:
            docs = secret.expand(manifests.load(path.read_bytes()))
            found.extend(secret.sealed_key_hint(d) for d in docs if d.get("kind") == secret.KIND)
        except (OSError, KsealError):
            continue
    return found


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
