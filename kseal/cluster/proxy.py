"""The sealed-secrets controller, reached the way kubeseal does: through the API server's service
proxy, ``/api/v1/namespaces/NS/services/http:NAME:PORT/proxy/v1/{cert.pem,verify,rotate}``, with the
kubeconfig (``--kubeconfig``, ``$KUBECONFIG``, ``~/.kube/config``) and ``--context``. Failures
become :class:`ClusterError` with hints for the usual causes (a blocked proxy on private clusters,
the Helm release's service name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kseal.cluster import connect, request
from kseal.errors import ClusterError


@dataclass(frozen=True)
class Controller:
    name: str = "sealed-secrets-controller"
    namespace: str = "kube-system"
    kubeconfig: str | None = None
    context: str | None = None


def _client(target: Controller) -> Any:
    return connect(
        target.kubeconfig, target.context, offline_hint="or use --cert FILE to work offline"
    )


def _proxy_hints(target: Controller) -> list[str]:
    return [
        f"is the controller's service called {target.name!r} in {target.namespace!r}? Helm installs "
        "usually name it 'sealed-secrets': pass --controller-name/--controller-namespace",
        "if the API server's service proxy is blocked (common on private GKE/EKS), run "
        f"'kubectl port-forward -n {target.namespace} svc/{target.name} 8080:8080' and pass "
        "--cert http://localhost:8080/v1/cert.pem",
    ]


def _raw(api: Any, method: str, path: str, body: Any) -> tuple[int, bytes]:
    return request(api, method, path, body=body, accept="application/x-pem-file, */*")


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
