"""kseal.yamlio: kseal's own typed parse events, and a clear error without ruamel's C extension."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kseal import yamlio
from kseal.errors import InputError, KsealError
from kseal.sops.stores.yaml_store import YamlStore
from kseal.yamlio import (
    AliasEvent,
    DocumentEnd,
    DocumentStart,
    MappingEnd,
    MappingStart,
    ScalarEvent,
    SequenceEnd,
    SequenceStart,
    StreamEnd,
    read_events,
)

ROOT = Path(__file__).resolve().parents[1]


def test_events_are_typed_with_their_positions() -> None:
    text = 'a: &x b\nc: "q"\nd: !!int 1\ne: |\n  k\nf: *x\n---\n[1]\n'
    got = list(read_events(text))
    assert [type(e) for e in got] == [
        DocumentStart, MappingStart,
        ScalarEvent, ScalarEvent, ScalarEvent, ScalarEvent, ScalarEvent, ScalarEvent,
        ScalarEvent, ScalarEvent, ScalarEvent, AliasEvent,
        MappingEnd, DocumentEnd, DocumentStart, SequenceStart, ScalarEvent, SequenceEnd,
        DocumentEnd, StreamEnd,
    ]  # fmt: skip
    b = got[3]
    assert isinstance(b, ScalarEvent)
    assert (b.value, b.style, b.plain, b.anchor, b.tag) == ("b", "", True, "x", None)
    assert (b.start, b.end, b.line, b.column) == (3, 7, 0, 3)
    q = got[5]
    assert isinstance(q, ScalarEvent)
    assert (q.value, q.style, q.plain, text[q.start : q.end]) == ("q", '"', False, '"q"')
    one = got[7]
    assert isinstance(one, ScalarEvent)
    assert (one.tag, one.plain) == ("tag:yaml.org,2002:int", False)
    block = got[9]
    assert isinstance(block, ScalarEvent)
    assert (block.value, block.style, block.line, block.column) == ("k\n", "|", 3, 3)
    alias = got[11]
    assert isinstance(alias, AliasEvent)
    assert (alias.anchor, text[alias.start : alias.end], alias.line) == ("x", "*x", 5)
    seq = got[15]
    assert isinstance(seq, SequenceStart)
    assert (seq.flow, seq.line, seq.column) == (True, 7, 0)
    mapping = got[1]
    assert isinstance(mapping, MappingStart)
    assert (mapping.flow, mapping.anchor, mapping.line) == (False, None, 0)


def test_events_are_frozen() -> None:
    event = next(e for e in read_events("a: b\n") if isinstance(e, ScalarEvent))
    with pytest.raises(AttributeError):
        event.value = "c"  # type: ignore[misc]


def test_limits_apply_to_typed_events() -> None:
    with pytest.raises(InputError, match="nesting deeper than"):
        list(read_events("a: " + "[" * 300 + "]" * 300 + "\n"))


@pytest.fixture
def no_c_extension(monkeypatch: pytest.MonkeyPatch) -> None:
    """ruamel.yaml as installed without ruamel.yaml.clib: importing its C parser fails."""
    monkeypatch.delitem(sys.modules, "ruamel.yaml.cyaml", raising=False)
    monkeypatch.setitem(sys.modules, "_ruamel_yaml", None)  # type: ignore[arg-type]
    monkeypatch.setitem(sys.modules, "_ruamel_yaml_clibz", None)  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_c_extension")
def test_missing_c_extension_is_a_kseal_error_with_an_install_hint() -> None:
    with pytest.raises(KsealError) as info:
        list(read_events("a: b\n"))
    assert "ruamel.yaml.clib" in str(info.value)
    assert any("pip install ruamel.yaml.clib" in hint for hint in info.value.hints)
    assert info.value.exit_code == 1
    with pytest.raises(KsealError, match=r"ruamel\.yaml\.clib"):
        YamlStore().load(b"a: b\n")
    with pytest.raises(KsealError, match=r"ruamel\.yaml\.clib"):
        yamlio.safe_load_all("a: b\n")


def test_cli_without_c_extension_prints_the_hint_not_an_internal_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text("a: b\n")
    public = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
    script = (
        "import runpy, sys\n"
        "sys.modules['_ruamel_yaml'] = None\n"
        "sys.modules['_ruamel_yaml_clibz'] = None\n"
        f"sys.argv = ['kseal', 'encrypt', '--age', {public!r}, {str(plain)!r}]\n"
        "runpy.run_module('kseal', run_name='__main__')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "KSEAL_"))}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, env=env, cwd=tmp_path, check=False
    )
    err = out.stderr.decode()
    assert out.returncode == 1, err
    assert err.startswith("kseal: error: kseal needs the C extension of ruamel.yaml"), err
    assert "kseal: hint: install it into kseal's environment: pip install ruamel.yaml.clib" in err
    assert "internal error" not in err and "Traceback" not in err
