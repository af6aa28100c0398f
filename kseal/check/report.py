"""Findings as text lines, JSON and SARIF 2.1.0 (for GitHub code scanning)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from kseal import __version__
from kseal.check.model import RULES, Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def text(findings: Sequence[Finding]) -> str:
    return "".join(f"{f.text()}\n" for f in findings)


def as_json(findings: Sequence[Finding], files: int) -> str:
    out = {
        "files_checked": files,
        "findings": [
            {
                "rule": f.rule,
                "name": RULES[f.rule].name,
                "level": f.level,
                "path": f.path,
                "line": f.line,
                "column": f.col,
                "message": f.message,
                "hint": RULES[f.rule].hint,
                "fingerprint": f.fingerprint,
            }
            for f in findings
        ],
    }
    return json.dumps(out, indent=2) + "\n"


def sarif(findings: Sequence[Finding]) -> str:
    used = sorted({f.rule for f in findings} | set(RULES))
    rules = [
        {
            "id": rid,
            "name": RULES[rid].name,
            "shortDescription": {"text": RULES[rid].summary},
            "help": {"text": RULES[rid].hint},
            "defaultConfiguration": {"level": RULES[rid].level},
        }
        for rid in used
    ]
    index = {rid: i for i, rid in enumerate(used)}
    results = [
        {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": f.level,
            "message": {"text": f"{f.message}. Fix: {RULES[f.rule].hint}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path},
                        "region": {"startLine": f.line, "startColumn": f.col},
                    }
                }
            ],
            "partialFingerprints": {"kseal/v1": f.fingerprint},
        }
        for f in findings
    ]
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kseal",
                        "version": __version__,
                        "informationUri": "https://github.com/kseal/kseal",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
