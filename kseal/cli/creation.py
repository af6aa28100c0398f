"""Where a new file's recipients and selection rules come from: flags, environment, .sops.yaml."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kseal.sops.config import CreationRule
    from kseal.sops.rules import Rules


def rules_from_flags(base: Rules | None, **flags: str | bool | None) -> Rules:
    from kseal.sops.rules import RULE_NAMES, Rules

    chosen = {k: v for k, v in flags.items() if k in RULE_NAMES and v}
    if chosen:
        values: dict[str, str] = {k: str(v) for k, v in chosen.items()}
    else:
        values = {k: getattr(base, k) for k in RULE_NAMES} if base is not None else {}
    mac_only = bool(flags.get("mac_only_encrypted")) or bool(base and base.mac_only_encrypted)
    return Rules(**values, mac_only_encrypted=mac_only)


def recipients_and_rules(
    age: str | None, file: str | None, override: str | None, config: str | None
) -> tuple[list[list[str]], int, Rules | None]:
    """(key groups of age recipients, Shamir threshold, selection rules) for a new file.

    As sops: recipients from ``--age`` or ``SOPS_AGE_RECIPIENTS`` replace the matching rule's keys
    only; its selection (``encrypted_regex``...) still applies. Unlike sops, a ``.sops.yaml``
    with no matching rule is no error when the recipients are given.
    """
    from kseal.errors import NoMatchingRuleError
    from kseal.identities import recipients_from_env

    given: list[str] = []
    if age:
        from kseal.agekey import split_recipients

        given = split_recipients(age)
    else:
        given = recipients_from_env(os.environ)
    try:
        rule = creation_rule(file, override, config)
    except NoMatchingRuleError:
        if not given:
            raise
        rule = None
    if given:
        return [given], 0, rule.rules if rule is not None else None
    if rule is None:
        return [[]], 0, None
    return rule.groups(), rule.shamir_threshold, rule.rules


def creation_rule(
    file: str | None, override: str | None, config: str | None
) -> CreationRule | None:
    from kseal.fileio import read_input
    from kseal.sops.config import find_config, load_config, misnamed_config

    path = config or os.environ.get("SOPS_CONFIG")
    config_path = Path(path) if path else find_config(Path.cwd())
    if config_path is None:
        stray = misnamed_config(Path.cwd())
        if stray is not None:
            sys.stderr.write(
                f"kseal: warning: {stray} is ignored: the file must be named .sops.yaml\n"
            )
        return None
    cfg = load_config(read_input(str(config_path)).decode("utf-8"), config_path)
    target = override or (file if file not in (None, "-") else None)
    if target is None:
        return None
    return cfg.rule_for(Path(target))
