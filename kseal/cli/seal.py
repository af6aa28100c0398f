"""``kseal seal``: a drop-in for kubeseal (sealing, merging, re-encrypting, validating, and its
``--recovery-unseal`` and ``--fetch-cert`` modes)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kseal.cli.sealing import ENV, format_for, read_cert, write_text
from kseal.errors import ConflictError, InputError, KsealError

if TYPE_CHECKING:
    from kseal.cluster.proxy import Controller
    from kseal.keys import Certificate
    from kseal.sealed import Scope


# kubeseal's flags, with its SEALED_SECRETS_* environment variables
_Cert = Annotated[
    str | None, typer.Option("--cert", envvar=ENV + "CERT", help="Certificate file or URL.")
]
_Scope = Annotated[
    str,
    typer.Option("--scope", envvar=ENV + "SCOPE", help="strict, namespace-wide or cluster-wide."),
]
_Fmt = Annotated[str, typer.Option("-o", "--format", envvar=ENV + "FORMAT", help="json or yaml.")]
_Output = Annotated[
    str | None,
    typer.Option(
        "-w",
        "--sealed-secret-file",
        envvar=ENV + "SEALED_SECRET_FILE",
        help="Write here (atomically).",
    ),
]
_InputFile = Annotated[
    str | None,
    typer.Option(
        "-f",
        "--secret-file",
        envvar=ENV + "SECRET_FILE",
        help="Input Secret(s) (stdin if absent).",
    ),
]
_Raw = Annotated[
    bool,
    typer.Option("--raw", envvar=ENV + "RAW", help="Seal one value and print bare base64."),
]
_Name = Annotated[
    str | None,
    typer.Option(
        "--name", envvar=ENV + "NAME", help="Name (for --raw, or overriding the Secret's)."
    ),
]
_Namespace = Annotated[
    str | None, typer.Option("-n", "--namespace", envvar=ENV + "NAMESPACE", help="Namespace.")
]
_FromFile = Annotated[
    str | None,
    typer.Option(
        "--from-file",
        envvar=ENV + "FROM_FILE",
        help="With --raw: read the value from [key=]path.",
    ),
]
_AllowEmptyData = Annotated[
    bool,
    typer.Option(
        "--allow-empty-data",
        envvar=ENV + "ALLOW_EMPTY_DATA",
        help="Allow a Secret without data.",
    ),
]
_FetchCert = Annotated[
    bool,
    typer.Option("--fetch-cert", envvar=ENV + "FETCH_CERT", help="Print the certificate and exit."),
]
_MergeInto = Annotated[
    str | None,
    typer.Option(
        "--merge-into",
        envvar=ENV + "MERGE_INTO",
        help="Merge the sealed items into this SealedSecret file.",
    ),
]
_RecoveryUnseal = Annotated[
    bool,
    typer.Option(
        "--recovery-unseal",
        envvar=ENV + "RECOVERY_UNSEAL",
        help="Decrypt a SealedSecret offline.",
    ),
]
_RecoveryPrivateKey = Annotated[
    list[str] | None,
    typer.Option(
        "--recovery-private-key",
        envvar=ENV + "RECOVERY_PRIVATE_KEY",
        help="Private key PEM or key Secret backup (repeatable).",
    ),
]
_KeyAnnotation = Annotated[
    bool,
    typer.Option(
        "--key-annotation/--no-key-annotation",
        help="Record the sealing key's fingerprint in an annotation.",
    ),
]
_Validate = Annotated[
    bool,
    typer.Option(
        "--validate",
        envvar=ENV + "VALIDATE",
        help="Ask the controller whether it can decrypt the result.",
    ),
]
_ReEncrypt = Annotated[
    bool,
    typer.Option(
        "--re-encrypt",
        envvar=ENV + "RE_ENCRYPT",
        help="Have the controller re-encrypt input SealedSecrets.",
    ),
]
_ControllerName = Annotated[
    str,
    typer.Option("--controller-name", envvar=ENV + "CONTROLLER_NAME", help="Controller service."),
]
_ControllerNamespace = Annotated[
    str,
    typer.Option(
        "--controller-namespace", envvar=ENV + "CONTROLLER_NAMESPACE", help="Its namespace."
    ),
]
_Kubeconfig = Annotated[
    str | None, typer.Option("--kubeconfig", envvar=ENV + "KUBECONFIG", help="Kubeconfig file.")
]
_Context = Annotated[
    str | None, typer.Option("--context", envvar=ENV + "CONTEXT", help="Kubeconfig context.")
]


def seal(
    cert: _Cert = None,
    scope: _Scope = "strict",
    fmt: _Fmt = "json",
    output: _Output = None,
    input_file: _InputFile = None,
    raw: _Raw = False,
    name: _Name = None,
    namespace: _Namespace = None,
    from_file: _FromFile = None,
    allow_empty_data: _AllowEmptyData = False,
    fetch_cert: _FetchCert = False,
    merge_into: _MergeInto = None,
    recovery_unseal: _RecoveryUnseal = False,
    recovery_private_key: _RecoveryPrivateKey = None,
    key_annotation: _KeyAnnotation = True,
    validate: _Validate = False,
    re_encrypt: _ReEncrypt = False,
    controller_name: _ControllerName = "sealed-secrets-controller",
    controller_namespace: _ControllerNamespace = "kube-system",
    kubeconfig: _Kubeconfig = None,
    context: _Context = None,
) -> None:
    """Seal Kubernetes Secrets into SealedSecrets, like kubeseal."""
    from kseal import manifests, sealed, secret
    from kseal.cluster.proxy import Controller
    from kseal.fileio import read_input

    target = Controller(controller_name, controller_namespace, kubeconfig, context)
    if recovery_unseal:
        from kseal.cli.unseal import unseal_all

        unseal_all([input_file], recovery_private_key or [], "--recovery-private-key", fmt, output)
        return
    if from_file and not raw:
        raise ConflictError("--from-file requires --raw")
    if re_encrypt:
        _re_encrypt(target, input_file, output, fmt)
        return
    certificate = read_cert(cert, target)
    if fetch_cert:
        write_text(certificate.pem.decode(), output)
        return
    certificate.check_valid(datetime.now(UTC))
    scope_value = sealed.Scope.parse(scope)
    if raw:
        _seal_raw(certificate, scope_value, name, namespace, from_file, allow_empty_data)
        return
    docs = secret.expand(manifests.load(read_input(input_file)))
    secrets_in = [d for d in docs if secret.is_secret(d)]
    if not secrets_in:
        raise InputError("no secrets found. Ensure the input is valid and UTF-8 encoded")
    fingerprint = certificate.fingerprint if key_annotation else None
    if merge_into:
        _merge(
            merge_into,
            secrets_in,
            certificate,
            scope_value,
            fingerprint,
            allow_empty_data,
            namespace,
        )
        return
    fmt = format_for(output, fmt)
    options = _Sealing(scope_value, name, namespace, allow_empty_data, fingerprint, validate)
    write_text(_seal_secrets(secrets_in, certificate, options, target, fmt), output)


@dataclass(frozen=True)
class _Sealing:
    scope: Scope
    name: str | None
    namespace: str | None
    allow_empty: bool
    fingerprint: str | None
    validate: bool


def _seal_secrets(
    secrets_in: list[dict[str, Any]],
    certificate: Certificate,
    options: _Sealing,
    target: Controller,
    fmt: str,
) -> str:
    """Each Secret sealed (and, with ``--validate``, checked by the controller), as one text."""
    from kseal import manifests, secret

    out = []
    for doc in secrets_in:
        secret.check_secret(doc)
    default_ns = options.namespace or ""
    if not default_ns and any(not secret.namespace_of(d) for d in secrets_in):
        from kseal.cluster import context_namespace

        default_ns = context_namespace(target.kubeconfig, target.context)
    for doc in secrets_in:
        ss = secret.seal_secret(
            doc,
            certificate.public_key,
            scope=options.scope,
            name=options.name,
            namespace=options.namespace,
            default_namespace=default_ns,
            allow_empty=options.allow_empty,
            key_fingerprint=options.fingerprint,
        )
        if options.validate:
            from kseal.cluster import proxy as cluster

            if not cluster.verify(target, ss):
                raise KsealError(f"unable to decrypt sealed secret: {ss['metadata']['name']}")
        out.append(manifests.dump_yaml(ss) if fmt == "yaml" else manifests.dump_json(ss))
    return "".join(out)


def _re_encrypt(target: Controller, input_file: str | None, output: str | None, fmt: str) -> None:
    """kubeseal --re-encrypt: the controller re-seals with its newest key (in place with -f)."""
    import json

    from kseal import manifests, secret, shapes
    from kseal.cluster import proxy as cluster
    from kseal.fileio import read_input

    raw_in = read_input(input_file)
    docs = [d for d in secret.expand(manifests.load(raw_in)) if d.get("kind") == secret.KIND]
    if not docs:
        raise InputError("no SealedSecrets found in the input")
    destination = output or input_file
    if destination and not output:  # in place: keep the file's own format
        fmt = "json" if raw_in.lstrip().startswith(b"{") else "yaml"
    fmt = format_for(destination, fmt)
    out = []
    for doc in docs:
        secret.check_sealed_secret(doc)
        for field in ("creationTimestamp", "deletionTimestamp", "generation"):
            shapes.mapping(doc.get("metadata"), "metadata").pop(field, None)
        rotated = json.loads(cluster.rotate(target, doc))
        out.append(manifests.dump_yaml(rotated) if fmt == "yaml" else manifests.dump_json(rotated))
    write_text("".join(out), destination)


def _seal_raw(
    certificate: Certificate,
    scope: Any,
    name: str | None,
    namespace: str | None,
    from_file: str | None,
    allow_empty: bool,
) -> None:
    import base64

    from kseal import sealed
    from kseal.fileio import read_input

    if scope is not sealed.Scope.CLUSTER_WIDE and not namespace:
        raise InputError("must provide the --namespace flag with --raw and --scope " + scope.value)
    if scope is sealed.Scope.STRICT and not name:
        raise InputError("must provide the --name flag with --raw and --scope strict")
    path = from_file.split("=", 1)[-1] if from_file else None
    value = read_input(path)
    if not value and not allow_empty:
        raise InputError(
            f"the value to seal is empty ({path or 'stdin'}), assuming this is an error and "
            "aborting",
            hints=["to seal an empty value, pass --allow-empty-data"],
        )
    blob = sealed.seal(
        certificate.public_key, value, sealed.label(namespace or "", name or "", scope)
    )
    sys.stdout.write(base64.b64encode(blob).decode())
    sys.stdout.flush()


def _merge(
    target: str,
    secrets_in: list[dict[str, Any]],
    certificate: Certificate,
    scope_flag: Any,
    fingerprint: str | None,
    allow_empty: bool,
    namespace_flag: str | None,
) -> None:
    """Merge into an existing SealedSecret as kubeseal does (items, template labels, annotations
    and data), keeping the file's format and sealing with its own name, namespace and scope."""
    from kseal import manifests, sealed, sealed_edits, secret, shapes
    from kseal.fileio import read_input, write_output

    raw_target = read_input(target)
    try:
        docs = secret.expand(manifests.load(raw_target))
        if len(docs) != 1:
            raise InputError("expected exactly one SealedSecret")
        existing = docs[0]
        secret.check_sealed_secret(existing)
        namespace, name, scope = secret.scope_of_sealed(existing)
    except InputError as err:
        raise InputError(f"{target}: {err.message}", hints=err.hints) from None
    if scope_flag is not sealed.Scope.STRICT and scope_flag is not scope:
        raise InputError(
            f"--scope {scope_flag.value} differs from {target}'s scope {scope.value}",
            hints=[f"the controller unseals with the label of {target}'s metadata ({scope.value})"],
        )
    scope_annotations = (sealed.CLUSTER_WIDE_ANNOTATION, sealed.NAMESPACE_WIDE_ANNOTATION)
    for doc in secrets_in:
        secret.check_secret(doc)  # before the target's name and namespace replace the input's
        meta = shapes.mapping(doc.get("metadata"), "metadata")
        annotations = shapes.string_map(meta.get("annotations"), "metadata.annotations")
        meta = {
            **meta,
            # The target decides the scope: the input's own scope annotations do not count.
            "annotations": {k: v for k, v in annotations.items() if k not in scope_annotations},
        }
        if namespace:  # the target's name and namespace win over the input's, as in kubeseal
            meta["namespace"] = namespace
        update = secret.seal_secret(
            {**doc, "metadata": meta},
            certificate.public_key,
            scope=scope,
            name=name,
            namespace=namespace_flag,
            allow_empty=allow_empty,
            key_fingerprint=fingerprint,
        )
        existing = sealed_edits.merge_sealed(existing, update)
        if fingerprint:
            meta = shapes.mapping(existing.get("metadata"), "metadata")
            existing["metadata"] = {
                **meta,
                "annotations": {
                    **shapes.string_map(meta.get("annotations"), "metadata.annotations"),
                    secret.KEY_ANNOTATION: fingerprint,
                },
            }
    as_json = raw_target.lstrip().startswith(b"{")
    text = manifests.dump_json(existing) if as_json else manifests.dump_yaml(existing)
    write_output(target, text.encode(), plaintext=False)


def register(app: typer.Typer) -> None:
    app.command("seal")(seal)
