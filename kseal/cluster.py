"""Cluster access: the only module that uses the ``kubernetes`` client (imported lazily).

It talks to the sealed-secrets controller the way kubeseal does: through the API server's service
proxy, ``/api/v1/namespaces/NS/services/http:NAME:PORT/proxy/v1/{cert.pem,verify,rotate}``, with the
kubeconfig (``--kubeconfig``, ``$KUBECONFIG``, ``~/.kube/config``) and ``--context``. Failures
become :class:`ClusterError` with hints for the usual causes (a blocked proxy on private clusters,
the Helm release's service name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kseal.errors import ClusterError


@dataclass(frozen=True)
class Controller:
    name: str = "sealed-secrets-controller"
    namespace: str = "kube-system"
    kubeconfig: str | None = None
    context: str | None = None


def context_namespace(kubeconfig: str | None, context: str | None) -> str:
    """The namespace of the kubeconfig context (``default`` when unset), as kubeseal defaults it.
    Reads the kubeconfig as YAML without the kubernetes client, so offline sealing stays light."""
    import os
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


def _client(target: Controller) -> Any:
    try:
        from kubernetes import config
    except ImportError:
        raise ClusterError(
            "cluster access needs the kubernetes client",
            hints=["pip install 'kseal[cluster]', or pass --cert FILE"],
        ) from None
    try:
        return config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=target.kubeconfig, context=target.context
        )
    except (config.ConfigException, OSError, TypeError) as exc:
        raise ClusterError(
            f"cannot load the kubeconfig: {exc}",
            hints=["pass --kubeconfig FILE / --context NAME, or use --cert FILE to work offline"],
        ) from None


def _proxy_hints(target: Controller) -> list[str]:
    return [
        f"is the controller's service called {target.name!r} in {target.namespace!r}? Helm installs "
        "usually name it 'sealed-secrets': pass --controller-name/--controller-namespace",
        "if the API server's service proxy is blocked (common on private GKE/EKS), run "
        f"'kubectl port-forward -n {target.namespace} svc/{target.name} 8080:8080' and pass "
        "--cert http://localhost:8080/v1/cert.pem",
    ]


def _raw(api: Any, method: str, path: str, body: Any) -> tuple[int, bytes]:
    """One raw request; works with both generations of the kubernetes client API."""
    headers = {"Accept": "application/x-pem-file, */*", "Content-Type": "application/json"}
    if hasattr(api, "param_serialize"):  # kubernetes >= 33 (new generator): no raise on errors
        verb, url, hdrs, payload, _ = api.param_serialize(
            method=method,
            resource_path=path,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = api.call_api(verb, url, header_params=hdrs, body=payload)
        response.read()
        return int(response.status), bytes(response.data or b"")
    raw = api.call_api(
        path,
        method,
        header_params=headers,
        body=body,
        auth_settings=["BearerToken"],
        _preload_content=False,
        _return_http_data_only=False,
    )[0]
    return int(raw.status), bytes(raw.data)


def _request(target: Controller, method: str, endpoint: str, body: Any = None) -> tuple[int, bytes]:
    from kubernetes.client import CoreV1Api
    from kubernetes.client.exceptions import ApiException

    api = _client(target)
    try:
        service = CoreV1Api(api).read_namespaced_service(target.name, target.namespace)
        ports = (service.spec.ports if service.spec else None) or []
        if not ports:
            raise ClusterError(f"service {target.namespace}/{target.name} exposes no port")
        port = ports[0].name or str(ports[0].port)
        path = f"/api/v1/namespaces/{target.namespace}/services/http:{target.name}:{port}/proxy{endpoint}"
        status, data = _raw(api, method, path, body)
    except ApiException as exc:
        status, data = int(exc.status or 0), b""
    except ClusterError:
        raise
    except Exception as exc:  # urllib3/network errors have many types
        raise ClusterError(
            f"cannot reach the Kubernetes API server ({type(exc).__name__})",
            hints=_proxy_hints(target),
        ) from None
    finally:
        api.close()
    if status >= 400 and status != 409:
        raise ClusterError(
            f"the API server answered {status} for the sealed-secrets controller ({endpoint})",
            hints=_proxy_hints(target),
        )
    return status, data


def fetch_certificate(target: Controller) -> bytes:
    status, data = _request(target, "GET", "/v1/cert.pem")
    if status != 200:
        raise ClusterError(
            f"the controller answered {status} for /v1/cert.pem", hints=_proxy_hints(target)
        )
    return data


def verify(target: Controller, sealed_secret: dict[str, Any]) -> bool:
    """True when the controller can decrypt the SealedSecret (kubeseal --validate)."""
    status, _ = _request(target, "POST", "/v1/verify", sealed_secret)
    if status == 200:
        return True
    if status == 409:
        return False
    raise ClusterError(f"the controller answered {status} for /v1/verify")


def rotate(target: Controller, sealed_secret: dict[str, Any]) -> bytes:
    """The SealedSecret re-encrypted with the controller's newest key (kubeseal --re-encrypt)."""
    status, data = _request(target, "POST", "/v1/rotate", sealed_secret)
    if status != 200:
        raise ClusterError(f"the controller answered {status} for /v1/rotate")
    return data
