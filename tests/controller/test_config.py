"""Flags and SEALED_SECRETS_* variables -> Config (kseal_controller.config)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kseal_controller import config
from kseal_controller.config import ConfigError, parse

NO_SA = Path("/nonexistent/serviceaccount/namespace")


def _parse(argv: list[str], env: dict[str, str] | None = None) -> config.Config:
    return parse(argv, env or {}, sa_namespace_file=NO_SA)


def test_defaults_are_the_originals() -> None:
    cfg = _parse([])
    assert cfg.key_prefix == "sealed-secrets-key"
    assert cfg.key_size == 4096
    assert cfg.key_ttl == timedelta(hours=87600)
    assert cfg.key_renew_period == timedelta(days=30)
    assert cfg.key_order_priority == "CertNotBefore"
    assert cfg.key_cutoff_time is None
    assert cfg.all_namespaces and cfg.update_status and cfg.log_info_stdout
    assert not cfg.skip_recreate and not cfg.watch_for_secrets
    assert (cfg.rate_limit, cfg.rate_limit_burst, cfg.max_unseal_retries) == (2, 2, 5)
    assert (cfg.listen_addr, cfg.listen_metrics_addr) == (":8080", ":8081")
    assert (cfg.log_level, cfg.log_format) == ("INFO", "text")
    assert cfg.kubeconfig is None and cfg.context is None
    assert cfg.workers >= 1
    assert cfg.namespace == "default"
    assert cfg.warnings == ()


def test_every_flag_has_a_config_field_and_env_name() -> None:
    fields = set(config.Config.__dataclass_fields__)
    for flag in config.FLAGS:
        assert flag.dest in fields or flag.dest == "rotate_period"
        assert flag.env == "SEALED_SECRETS_" + flag.name.upper().replace("-", "_")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--update-status=false"], False),
        (["--update-status", "false"], False),
        (["--update-status=0"], False),
        (["--update-status"], True),
        (["--update-status=T"], True),
    ],
)
def test_go_style_booleans(argv: list[str], expected: bool) -> None:
    assert _parse(argv).update_status is expected


def test_bare_boolean_flag_before_another_flag_is_true() -> None:
    cfg = _parse(["--skip-recreate", "--key-size", "2048"])
    assert cfg.skip_recreate and cfg.key_size == 2048


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("720h", timedelta(hours=720)),
        ("87600h", timedelta(hours=87600)),
        ("1h30m", timedelta(minutes=90)),
        ("1.5s", timedelta(seconds=1.5)),
        ("250ms", timedelta(milliseconds=250)),
        ("0", timedelta(0)),
        ("0s", timedelta(0)),
    ],
)
def test_go_durations(text: str, expected: timedelta) -> None:
    assert config.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "10", "1d", "h", "1h x", "1.2.3h"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        config.parse_duration(text)


def test_renew_period_zero_disables_and_is_accepted() -> None:
    assert _parse(["--key-renew-period=0"]).key_renew_period == timedelta(0)


def test_env_sets_a_flag() -> None:
    env = {"SEALED_SECRETS_KEY_RENEW_PERIOD": "48h", "SEALED_SECRETS_UPDATE_STATUS": "false"}
    cfg = _parse([], env)
    assert cfg.key_renew_period == timedelta(hours=48)
    assert cfg.update_status is False


def test_flag_wins_over_env() -> None:
    cfg = _parse(["--key-prefix=from-flag"], {"SEALED_SECRETS_KEY_PREFIX": "from-env"})
    assert cfg.key_prefix == "from-flag"


def test_deprecated_rotate_period_sets_renew_period_with_a_warning() -> None:
    cfg = _parse(["--rotate-period=2h"])
    assert cfg.key_renew_period == timedelta(hours=2)
    assert any("deprecated" in w for w in cfg.warnings)


def test_key_renew_period_wins_over_rotate_period() -> None:
    cfg = _parse(["--rotate-period=2h", "--key-renew-period=3h"])
    assert cfg.key_renew_period == timedelta(hours=3)


def test_cutoff_time_is_go_rfc1123z() -> None:
    cfg = _parse(["--key-cutoff-time=Mon, 02 Jan 2006 15:04:05 -0700"])
    assert cfg.key_cutoff_time == datetime(2006, 1, 2, 22, 4, 5, tzinfo=UTC)


def test_cutoff_time_from_env() -> None:
    env = {"SEALED_SECRETS_KEY_CUTOFF_TIME": "Tue, 03 Mar 2026 10:00:00 +0000"}
    assert _parse([], env).key_cutoff_time == datetime(2026, 3, 3, 10, tzinfo=UTC)


def test_lists_and_pairs() -> None:
    cfg = _parse(
        [
            "--additional-namespaces=a,b,,a",
            "--privatekey-labels=team=x,env=prod",
            "--privatekey-annotations=note=a=b",
        ]
    )
    assert cfg.additional_namespaces == ("a", "b")
    assert dict(cfg.privatekey_labels) == {"team": "x", "env": "prod"}
    assert dict(cfg.privatekey_annotations) == {"note": "a=b"}


def test_log_level_is_case_insensitive_and_warning_is_warn() -> None:
    assert _parse(["--log-level=debug"]).log_level == "DEBUG"
    assert _parse(["--log-level=warning"]).log_level == "WARN"


def test_kubeconfig_context_workers_version() -> None:
    cfg = _parse(["--kubeconfig=/k", "--context=kind", "--workers=3", "--version"])
    assert (cfg.kubeconfig, cfg.context, cfg.workers, cfg.version) == ("/k", "kind", 3, True)


def test_watch_for_secrets_is_accepted() -> None:
    assert _parse(["--watch-for-secrets=true"]).watch_for_secrets is True


@pytest.mark.parametrize(
    ("argv", "env", "names"),
    [
        (["--no-such-flag"], {}, "--no-such-flag"),
        (["--no-such-flag=1"], {}, "--no-such-flag"),
        (["positional"], {}, "positional"),
        (["--key-size=big"], {}, "--key-size"),
        (["--update-status=maybe"], {}, "--update-status"),
        (["--key-renew-period=30d"], {}, "--key-renew-period"),
        (["--key-renew-period=-1h"], {}, "--key-renew-period"),
        (["--key-cutoff-time=2026-01-01"], {}, "--key-cutoff-time"),
        (["--key-prefix=Bad_Prefix"], {}, "--key-prefix"),
        (["--key-prefix=" + "a" * 246], {}, "--key-prefix"),
        (["--key-order-priority=Newest"], {}, "--key-order-priority"),
        (["--log-format=xml"], {}, "--log-format"),
        (["--log-level=loud"], {}, "--log-level"),
        (["--rate-limit=0"], {}, "--rate-limit"),
        (["--workers=0"], {}, "--workers"),
        (["--listen-addr=8080"], {}, "--listen-addr"),
        (["--privatekey-labels=novalue"], {}, "--privatekey-labels"),
        ([], {"SEALED_SECRETS_KEY_SIZE": "x"}, "SEALED_SECRETS_KEY_SIZE (--key-size)"),
    ],
)
def test_bad_flags_give_one_line_errors_naming_the_flag(
    argv: list[str], env: dict[str, str], names: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _parse(argv, env)
    message = str(info.value)
    assert names in message
    assert "\n" not in message
    assert info.value.exit_code == 2


def test_no_abbreviated_flags() -> None:
    with pytest.raises(ConfigError, match="--key-pref"):
        _parse(["--key-pref=x"])


def test_namespace_from_pod_namespace_env(tmp_path: Path) -> None:
    sa = tmp_path / "namespace"
    sa.write_text("from-file\n")
    assert parse([], {"POD_NAMESPACE": "from-env"}, sa_namespace_file=sa).namespace == "from-env"


def test_namespace_from_service_account_file(tmp_path: Path) -> None:
    sa = tmp_path / "namespace"
    sa.write_text("kube-system\n")
    assert parse([], {}, sa_namespace_file=sa).namespace == "kube-system"


def test_namespace_defaults_to_default(tmp_path: Path) -> None:
    empty = tmp_path / "namespace"
    empty.write_text("  \n")
    assert parse([], {}, sa_namespace_file=empty).namespace == "default"
    assert parse([], {}, sa_namespace_file=NO_SA).namespace == "default"


def test_split_addr() -> None:
    assert config.split_addr(":8080") == ("", 8080)
    assert config.split_addr("127.0.0.1:0") == ("127.0.0.1", 0)
    assert config.split_addr("[::1]:8081") == ("::1", 8081)


def test_usage_lists_every_flag_and_variable() -> None:
    text = config.usage()
    for flag in config.FLAGS:
        assert f"--{flag.name}" in text
        assert flag.env in text or flag.name == "help"


def test_workers_default_falls_back_without_the_cpus_module() -> None:
    assert config.default_workers() >= 1


ROOT = Path(__file__).resolve().parents[2]


def _documented() -> dict[str, tuple[str, str]]:
    text = (ROOT / "docs" / "controller" / "configuration.md").read_text()
    rows = re.findall(r"^\| `--([a-z0-9-]+)` \| (?:`(\w+)`)? *\| (?:`([^`]*)`)? *\|", text, flags=re.M)
    return {name: (env, default) for name, env, default in rows}


def test_configuration_reference_lists_every_flag_with_its_variable_and_default() -> None:
    expected = {
        flag.name: ("" if flag.name == "help" else flag.env, flag.default) for flag in config.FLAGS
    }
    assert _documented() == expected


@pytest.mark.parametrize("flag", [f for f in config.FLAGS if f.default], ids=lambda f: f.name)
def test_documented_defaults_are_the_config_defaults(flag: config.Flag) -> None:
    default = config.Config.__dataclass_fields__[
        "key_renew_period" if flag.dest == "rotate_period" else flag.dest
    ].default
    assert flag.parse(flag.default) == default


@pytest.mark.parametrize(
    "argv",
    [
        ["--key-size=SENTINEL-5f3a9c"],
        ["--no-such-flag=SENTINEL-5f3a9c"],
        ["--update-status=SENTINEL-5f3a9c"],
        ["--privatekey-labels=SENTINEL-5f3a9c"],
        ["--key-cutoff-time=SENTINEL-5f3a9c"],
    ],
)
def test_errors_never_echo_the_value(argv: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        _parse(argv)
    assert "SENTINEL-5f3a9c" not in str(info.value) + " ".join(info.value.hints)
