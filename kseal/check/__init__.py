"""``kseal check``: the pre-commit guard that stops plaintext secrets and private keys.

Pure scanning over bytes (``scan.scan_bytes``); the CLI reads files and reports. Modules: ``model``
(findings and rule ids), ``nodes`` (YAML/JSON documents with line numbers), ``manifests``
(Kubernetes rules), ``keymaterial`` (private keys in any text), ``sopsrules`` (``.sops.yaml`` and
SOPS documents), ``suppress`` (inline allows, allowlists, baselines), ``report`` (text, JSON, SARIF).
"""
