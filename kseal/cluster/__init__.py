"""Cluster access: the only package that uses the ``kubernetes`` client (imported lazily, so
offline commands never pay for it).

- :func:`connect`: an API client from in-cluster credentials or a kubeconfig and context;
- :func:`request`: one raw request, answering ``(status, body)``; network failures become
  :class:`ClusterError`, HTTP errors are left to the caller;
- :mod:`kseal.cluster.proxy`: the sealed-secrets controller through the API server's service proxy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from kseal.errors import ClusterError

JSON = "application/json"


def context_namespace(kubeconfig: str | None, context: str | None) -> str:
    """The namespace of the kubeconfig context (``default`` when unset), as kubeseal defaults it.
    Reads the kubeconfig as YAML without the kubernetes client, so offline sealing stays light."""
    from pathlib import Path

    from kseal.errors import KsealError
    from kseal.yamlio import safe_load_all

    paths = [kubeconfig] if kubeconfig else os.environ.get("KUBECONFIG", "").split(os.pathsep)
    if not any(paths):
        paths = [str(Path.home() / ".kube" / "config")]
    for path in filter(None, paths):
        try:
            docs = safe_load_all(Path(path).read_text())
        except (OSError, UnicodeDecodeError, KsealError):
            continue
        config = docs[0] if docs and isinstance(docs[0], dict) else {}
        name = context or config.get("current-context")
        for entry in config.get("contexts") or []:
            if isinstance(entry, dict) and entry.get("name") == name:
                return str((entry.get("context") or {}).get("namespace") or "default")
    return "default"


def connect(
    kubeconfig: str | None = None, context: str | None = None, *, offline_hint: str = ""
) -> Any:
    """An ``ApiClient``: the pod's service account when running in a cluster
    (``KUBERNETES_SERVICE_HOST`` set) and neither ``kubeconfig`` nor ``context`` was given, else
    the kubeconfig (``kubeconfig``, ``$KUBECONFIG``, ``~/.kube/config``) and ``context``."""
    try:
        from kubernetes import client, config
    except ImportError:
        raise ClusterError(
            "cluster access needs the kubernetes client",
            hints=["pip install 'kseal[cluster]'", *([offline_hint] if offline_hint else [])],
        ) from None
    hints = ["pass --kubeconfig FILE / --context NAME", *([offline_hint] if offline_hint else [])]
    if os.environ.get("KUBERNETES_SERVICE_HOST") and not kubeconfig and not context:
        try:
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            return client.ApiClient(configuration)
        except (config.ConfigException, OSError) as exc:
            raise ClusterError(
                f"cannot load the pod's service-account credentials: {exc}", hints=hints
            ) from None
    try:
        return config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig or _first_kubeconfig(), context=context
        )
    except (config.ConfigException, OSError, TypeError) as exc:
        raise ClusterError(f"cannot load the kubeconfig: {exc}", hints=hints) from None


def _first_kubeconfig() -> str | None:
    """``$KUBECONFIG``'s first file (read at call time; the client reads it only at import)."""
    first = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return first or None


def request(
    api: Any,
    method: str,
    path: str,
    *,
    body: Any = None,
    query: Mapping[str, str] | None = None,
    content_type: str = JSON,
    accept: str = f"{JSON}, */*",
) -> tuple[int, bytes]:
    """One raw request (``body`` a JSON-able object, or bytes sent as they are): the HTTP status
    and body, whatever the status. Network failures are a :class:`ClusterError` that names the
    request, never a body."""
    headers = {"Accept": accept, "Content-Type": content_type}
    try:
        if not hasattr(api, "param_serialize"):  # kubernetes < 33 (the older generator)
            raw = api.call_api(
                path,
                method,
                query_params=list((query or {}).items()),
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _return_http_data_only=False,
            )[0]
            return int(raw.status), bytes(raw.data)
        verb, url, hdrs, _payload, _ = api.param_serialize(
            method=method,
            resource_path=path,
            query_params=list((query or {}).items()),
            header_params=headers,
            auth_settings=["BearerToken"],
        )
        response = api.call_api(verb, url, header_params=hdrs, body=body)
        response.read()
    except Exception as exc:  # urllib3/socket/TLS errors have many types
        if type(exc).__name__ == "ApiException":
            status = int(getattr(exc, "status", 0) or 0)
            if status:  # the older generator raises for HTTP errors
                return status, bytes(getattr(exc, "body", b"") or b"")
            raise ClusterError(f"{method} {path}: the API server refused the connection") from None
        if _tls_failure(exc):
            raise ClusterError(
                f"{method} {path}: the API server's TLS certificate is not trusted",
                hints=[
                    "check the cluster's CA: the kubeconfig's certificate-authority (or certificate-authority-data), or "
                    "the service account's ca.crt in a pod"
                ],
            ) from None
        raise ClusterError(
            f"cannot reach the Kubernetes API server ({type(exc).__name__}) for {method} {path}"
        ) from None
    return int(response.status), bytes(response.data or b"")


def _tls_failure(exc: BaseException) -> bool:
    """Whether a request failed on TLS (urllib3 wraps the ssl error in its retry error)."""
    import ssl

    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError) or type(seen).__name__ == "SSLError":
            return True
        seen = getattr(seen, "reason", None) or seen.__cause__ or seen.__context__
    return False


def _reason(body: bytes) -> str:
    try:
        reason = json.loads(body).get("reason")
    except (ValueError, AttributeError):
        return ""
    return f" {reason}" if isinstance(reason, str) and reason.isalnum() else ""


def refused(
    status: int, body: bytes, verb: str, resource: str, namespace: str, *, attempts: int = 0
) -> ClusterError:
    """A clear error for an HTTP failure of ``verb`` on ``resource`` (never the server's message,
    which may quote what was sent)."""
    where = f" in namespace {namespace}" if namespace else ""
    ns_flag = f" -n {namespace}" if namespace else ""
    if status == 401:
        return ClusterError(
            "the API server did not accept the credentials (401 Unauthorized)",
            hints=["check --kubeconfig/--context, or renew the token"],
        )
    if status == 403:
        return ClusterError(
            f"forbidden: kseal may not {verb} {resource}{where} (RBAC)",
            hints=[
                f"check with: kubectl auth can-i {verb} {resource}{ns_flag}",
                f"grant the CI identity a Role with the {verb} verb on {resource}",
            ],
        )
    if status == 409:
        return ClusterError(
            f"conflict: {resource}{where} kept changing while kseal wrote it ({attempts} attempts)",
            hints=["another client writes it: run bootstrap again once it settles"],
        )
    return ClusterError(
        f"{verb} {resource}{where}: the API server answered {status}{_reason(body)}"
    )
