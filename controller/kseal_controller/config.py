"""The controller's configuration: command-line flags and ``SEALED_SECRETS_*`` variables.

The flag names, defaults and environment variables are the Bitnami controller's, so an existing
Deployment's arguments keep working. Every flag ``--foo-bar`` can also come from
``SEALED_SECRETS_FOO_BAR``; a flag given on the command line wins over the variable. Values follow
Go's syntax: booleans as ``strconv.ParseBool`` (``--update-status=false``, ``--skip-recreate``),
durations as ``time.ParseDuration`` (``720h``, ``1h30m``), the cut-off time as ``time.RFC1123Z``.

:func:`parse` is pure apart from reading the service-account namespace file (its path is a
parameter); a bad flag or value raises :class:`ConfigError` with one line naming the flag.
:data:`FLAGS` is the one table of flags: the parser, ``--help`` and docs/controller/configuration.md
(checked by a test) come from it.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kseal.errors import ExitCode, KsealError

ENV_PREFIX = "SEALED_SECRETS_"
SA_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
ORDER_PRIORITIES = ("CertNotBefore", "SecretCreationTimestamp")
LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
LOG_FORMATS = ("text", "json")


class ConfigError(KsealError):
    """A flag or ``SEALED_SECRETS_*`` variable is unknown or has a bad value (exit 2)."""

    exit_code = ExitCode.USAGE


# --- value parsers (pure; raise ValueError with a message that names no flag) ---------------


def parse_bool(text: str) -> bool:
    """Go's ``strconv.ParseBool``."""
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise ValueError("expected true or false")


_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> timedelta:
    """Go's ``time.ParseDuration``: ``720h``, ``1h30m``, ``1.5s``, ``0``; a sign is allowed."""
    rest = text
    sign = 1
    if rest[:1] in ("+", "-"):
        sign = -1 if rest[0] == "-" else 1
        rest = rest[1:]
    if rest == "0":
        return timedelta(0)
    if not rest:
        raise ValueError("expected a duration such as 720h or 1h30m")
    seconds = 0.0
    pos = 0
    while pos < len(rest):
        match = _DURATION_PART.match(rest, pos)
        if match is None:
            raise ValueError("expected a duration such as 720h or 1h30m (units h, m, s, ms)")
        seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    return timedelta(seconds=sign * seconds)


def parse_rfc1123z(text: str) -> datetime:
    """Go's ``time.RFC1123Z``: ``Mon, 02 Jan 2006 15:04:05 -0700``."""
    try:
        return datetime.strptime(text, "%a, %d %b %Y %H:%M:%S %z")
    except ValueError:
        raise ValueError(
            "expected RFC1123 with a numeric zone, e.g. 'Mon, 02 Jan 2006 15:04:05 -0700'"
        ) from None


def parse_pairs(text: str) -> dict[str, str]:
    """``k=v,k2=v2`` (duplicates collapse; the first ``=`` splits key from value)."""
    out: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError("expected comma-separated key=value pairs")
        out.setdefault(key, value)
    return out


def parse_list(text: str) -> tuple[str, ...]:
    """A comma-separated list, blanks dropped, duplicates removed (first kept)."""
    return tuple(dict.fromkeys(filter(None, (part.strip() for part in text.split(",")))))


def parse_int(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise ValueError("expected an integer") from None


def parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError("expected a number") from None


def split_addr(addr: str) -> tuple[str, int]:
    """Go's ``host:port`` listen address (``:8080``, ``127.0.0.1:0``, ``[::]:8080``)."""
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError("expected [host]:port, e.g. :8080")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def _key_prefix(text: str) -> str:
    # the original's validateKeyPrefix: Kubernetes name characters, room for a generated suffix
    if len(text) > 245:
        raise ValueError(f"name is too long, must be shorter than 245, got {len(text)}")
    bad = next((c for c in text if c not in "abcdefghijklmnopqrstuvwxyz0123456789-"), None)
    if bad is not None:
        raise ValueError(f"name contains illegal character {bad!r}")
    return text


def _choice(options: Sequence[str], *, fold: bool = False) -> Callable[[str], str]:
    def check(text: str) -> str:
        value = text.upper() if fold else text
        if fold and value == "WARNING":
            value = "WARN"
        if value not in options:
            raise ValueError("must be one of " + "|".join(options))
        return value

    return check


def _at_least(minimum: int, parse: Callable[[str], Any] = parse_int) -> Callable[[str], Any]:
    def check(text: str) -> Any:
        value = parse(text)
        if value < minimum:
            raise ValueError(f"must be at least {minimum}")
        return value

    return check


def _not_negative(text: str) -> timedelta:
    value = parse_duration(text)
    if value < timedelta(0):
        raise ValueError("must not be negative")
    return value


def _positive(text: str) -> timedelta:
    value = parse_duration(text)
    if value <= timedelta(0):
        raise ValueError("must be positive")
    return value


def _addr(text: str) -> str:
    split_addr(text)
    return text


def _optional(text: str) -> str | None:
    return text or None


def _cutoff(text: str) -> datetime | None:
    return parse_rfc1123z(text) if text else None


# --- the flag table -----------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """One flag: ``--name``, its ``SEALED_SECRETS_*`` variable, how its text is read, and the
    default as the original's ``--help`` shows it. ``effect`` says what kseal does with it."""

    name: str
    dest: str
    parse: Callable[[str], Any]
    default: str
    help: str
    boolean: bool = False
    effect: str = "implemented"  # or "accepted, no effect: <why>"

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper().replace("-", "_")


_NO_EFFECT = "accepted for compatibility, no effect: "

FLAGS: tuple[Flag, ...] = (
    Flag(
        "key-prefix",
        "key_prefix",
        _key_prefix,
        "sealed-secrets-key",
        "Prefix used to name keys (generateName of new key Secrets; the legacy key's name).",
    ),
    Flag("key-size", "key_size", _at_least(1024), "4096", "Size of encryption key (RSA bits)."),
    Flag("key-ttl", "key_ttl", _positive, "87600h", "Duration that certificate is valid for."),
    Flag(
        "my-cn",
        "my_cn",
        str,
        "",
        "Common name to be used as issuer/subject DN in generated certificate.",
    ),
    Flag(
        "key-renew-period",
        "key_renew_period",
        _not_negative,
        "720h",
        "New key generation period (automatic rotation deactivated if 0).",
    ),
    Flag(
        "rotate-period",
        "rotate_period",
        _not_negative,
        "720h",
        "Deprecated alias of --key-renew-period.",
    ),
    Flag(
        "key-order-priority",
        "key_order_priority",
        _choice(ORDER_PRIORITIES),
        "CertNotBefore",
        "Which key is the newest: by certificate NotBefore or by Secret creationTimestamp.",
    ),
    Flag(
        "key-cutoff-time",
        "key_cutoff_time",
        _cutoff,
        "",
        "Create a new key if the latest one is older than this time (RFC1123 with a numeric zone).",
    ),
    Flag(
        "accept-deprecated-v1-data",
        "accept_deprecated_v1_data",
        parse_bool,
        "true",
        "Accept the deprecated v1 spec.data field.",
        boolean=True,
    ),
    Flag(
        "all-namespaces",
        "all_namespaces",
        parse_bool,
        "true",
        "Scan all namespaces or only the current namespace.",
        boolean=True,
    ),
    Flag(
        "additional-namespaces",
        "additional_namespaces",
        parse_list,
        "",
        "Comma-separated list of additional namespaces to be scanned.",
    ),
    Flag(
        "label-selector",
        "label_selector",
        str,
        "",
        "Label selector which can be used to filter sealed secrets.",
    ),
    Flag(
        "update-status",
        "update_status",
        parse_bool,
        "true",
        "Update the status subresource whenever a SealedSecret is processed.",
        boolean=True,
    ),
    Flag(
        "skip-recreate",
        "skip_recreate",
        parse_bool,
        "false",
        "Do not watch the generated Secrets to re-create them when deleted.",
        boolean=True,
    ),
    Flag(
        "watch-for-secrets",
        "watch_for_secrets",
        parse_bool,
        "false",
        "Watch the key Secrets.",
        boolean=True,
        effect=_NO_EFFECT + "kseal always watches the key Secrets",
    ),
    Flag(
        "old-gc-behavior",
        "old_gc_behavior",
        parse_bool,
        "false",
        "Delete Secrets on SealedSecret deletion instead of leaving it to Kubernetes GC.",
        boolean=True,
        effect=_NO_EFFECT + "ownerReferences let Kubernetes collect the Secret",
    ),
    Flag("max-unseal-retries", "max_unseal_retries", _at_least(0), "5", "Max unseal retries."),
    Flag(
        "rate-limit",
        "rate_limit",
        _at_least(1),
        "2",
        "Number of allowed sustained requests per second for the verify endpoint.",
    ),
    Flag(
        "rate-limit-burst",
        "rate_limit_burst",
        _at_least(0),
        "2",
        "Number of requests allowed to exceed the rate limit for the verify endpoint.",
    ),
    Flag(
        "privatekey-labels",
        "privatekey_labels",
        parse_pairs,
        "",
        "Comma-separated k=v labels to put on renewed sealing keys.",
    ),
    Flag(
        "privatekey-annotations",
        "privatekey_annotations",
        parse_pairs,
        "",
        "Comma-separated k=v annotations to put on renewed sealing keys.",
    ),
    Flag("listen-addr", "listen_addr", _addr, ":8080", "HTTP serving address."),
    Flag(
        "listen-metrics-addr",
        "listen_metrics_addr",
        _addr,
        ":8081",
        "HTTP metrics serving address.",
    ),
    Flag("read-timeout", "read_timeout", _positive, "2m", "HTTP request read timeout."),
    Flag(
        "write-timeout",
        "write_timeout",
        _positive,
        "2m",
        "HTTP response timeout.",
        effect=_NO_EFFECT + "responses are small; the read timeout bounds a connection",
    ),
    Flag(
        "log-level",
        "log_level",
        _choice(LOG_LEVELS, fold=True),
        "INFO",
        "Log level: DEBUG, INFO, WARN or ERROR (case-insensitive).",
    ),
    Flag("log-format", "log_format", _choice(LOG_FORMATS), "text", "Log format: text or json."),
    Flag(
        "log-info-stdout",
        "log_info_stdout",
        parse_bool,
        "true",
        "Log info to stdout and warnings/errors to stderr (else all to stderr).",
        boolean=True,
    ),
    Flag(
        "kubeclient-qps",
        "kubeclient_qps",
        parse_float,
        "5",
        "Kubernetes client QPS.",
        effect=_NO_EFFECT + "the Python client has no client-side limiter",
    ),
    Flag(
        "kubeclient-burst",
        "kubeclient_burst",
        parse_int,
        "10",
        "Kubernetes client burst.",
        effect=_NO_EFFECT + "the Python client has no client-side limiter",
    ),
    Flag(
        "kubeconfig",
        "kubeconfig",
        _optional,
        "",
        "kubeconfig file for running outside a cluster (kseal; default: in-cluster credentials).",
    ),
    Flag("context", "context", _optional, "", "kubeconfig context to use (kseal)."),
    Flag(
        "workers",
        "workers",
        _at_least(1),
        "",
        "Parallel unseal workers (kseal; default: the container's CPU limit).",
    ),
    Flag(
        "version",
        "version",
        parse_bool,
        "false",
        "Print version information and exit.",
        boolean=True,
    ),
    Flag("help", "help", parse_bool, "false", "Show this help and exit.", boolean=True),
)


@dataclass(frozen=True)
class Config:
    """Every setting the controller reads, with the original's defaults."""

    key_prefix: str = "sealed-secrets-key"
    key_size: int = 4096
    key_ttl: timedelta = timedelta(hours=87600)
    my_cn: str = ""
    key_renew_period: timedelta = timedelta(hours=720)
    key_order_priority: str = "CertNotBefore"
    key_cutoff_time: datetime | None = None
    accept_deprecated_v1_data: bool = True
    all_namespaces: bool = True
    additional_namespaces: tuple[str, ...] = ()
    label_selector: str = ""
    update_status: bool = True
    skip_recreate: bool = False
    watch_for_secrets: bool = False
    old_gc_behavior: bool = False
    max_unseal_retries: int = 5
    rate_limit: int = 2
    rate_limit_burst: int = 2
    privatekey_labels: Mapping[str, str] = field(default_factory=dict)
    privatekey_annotations: Mapping[str, str] = field(default_factory=dict)
    listen_addr: str = ":8080"
    listen_metrics_addr: str = ":8081"
    read_timeout: timedelta = timedelta(minutes=2)
    write_timeout: timedelta = timedelta(minutes=2)
    log_level: str = "INFO"
    log_format: str = "text"
    log_info_stdout: bool = True
    kubeclient_qps: float = 5.0
    kubeclient_burst: int = 10
    kubeconfig: str | None = None
    context: str | None = None
    workers: int = 1
    namespace: str = "default"
    version: bool = False
    help: bool = False
    warnings: tuple[str, ...] = ()  # deprecations to log once logging is set up


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would print usage and exit
        raise ConfigError(message, hints=["see kseal-controller --help"])


def _parser() -> _Parser:
    parser = _Parser(prog="kseal-controller", add_help=False, allow_abbrev=False)
    for flag in FLAGS:
        kwargs: dict[str, Any] = {"dest": flag.dest, "default": None, "metavar": "VALUE"}
        if flag.boolean:
            kwargs.update(nargs="?", const="true")
        parser.add_argument("--" + flag.name, **kwargs)
    return parser


def _value(flag: Flag, text: str, source: str) -> Any:
    try:
        return flag.parse(text)
    except ValueError as exc:
        raise ConfigError(
            f"invalid value for {source}: {exc}", hints=["see kseal-controller --help"]
        ) from None


def _unknown(extras: Sequence[str]) -> ConfigError:
    first = extras[0]
    what = "flag" if first.startswith("-") else "argument"
    name = first.split("=", 1)[0] if first.startswith("-") else first
    return ConfigError(f"unknown {what}: {name}", hints=["see kseal-controller --help"])


def parse(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    sa_namespace_file: Path = SA_NAMESPACE_FILE,
) -> Config:
    """The configuration from ``argv`` (without the program name) and ``env``."""
    given, extras = _parser().parse_known_args(list(argv))
    if extras:
        raise _unknown(extras)
    values: dict[str, Any] = {}
    for flag in FLAGS:
        text = getattr(given, flag.dest)
        if text is not None:
            values[flag.dest] = _value(flag, text, "--" + flag.name)
        elif flag.name != "help" and flag.env in env:
            values[flag.dest] = _value(flag, env[flag.env], f"{flag.env} (--{flag.name})")
    return _resolve(values, env, sa_namespace_file)


def _resolve(values: dict[str, Any], env: Mapping[str, str], sa_file: Path) -> Config:
    warnings: list[str] = []
    rotate = values.pop("rotate_period", None)
    if rotate is not None:
        warnings.append("--rotate-period is deprecated, please use --key-renew-period instead")
        values.setdefault("key_renew_period", rotate)
    if "workers" not in values:
        values["workers"] = default_workers()
    values["namespace"] = controller_namespace(env, sa_file)
    return Config(**values, warnings=tuple(warnings))


def default_workers() -> int:
    """The container's CPU limit (``kseal_controller.cpus``), else the machine's CPU count."""
    try:
        from kseal_controller import cpus  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        import os

        return max(1, os.cpu_count() or 1)
    return max(1, int(cpus.limit()))


def controller_namespace(env: Mapping[str, str], sa_file: Path = SA_NAMESPACE_FILE) -> str:
    """``POD_NAMESPACE``, else the service account's namespace file, else ``default``."""
    if env.get("POD_NAMESPACE"):
        return env["POD_NAMESPACE"]
    try:
        namespace = sa_file.read_text().strip()
    except (OSError, UnicodeDecodeError):
        namespace = ""
    return namespace or "default"


def usage() -> str:
    """The ``--help`` text: every flag, its variable and default."""
    lines = ["usage: kseal-controller [flags]", "", "flags (each also SEALED_SECRETS_<FLAG>):"]
    for flag in FLAGS:
        default = f" (default {flag.default})" if flag.default else ""
        env = "" if flag.name == "help" else f" [{flag.env}]"
        lines.append(f"  --{flag.name}\n        {flag.help}{default}{env}")
    return "\n".join(lines) + "\n"
