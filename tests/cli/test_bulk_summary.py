"""Bulk mode's summary: on a terminal, the failures and skips (sorted by status) then the totals,
every file with --verbose; a directory without -i, and an empty directory, say so."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Run, on_a_terminal


def _tree(tmp_path: Path, kseal: Run, public: str) -> list[str]:
    names = [f"ok{i}.yaml" for i in range(4)]
    for name in names:
        (tmp_path / name).write_text("k: v\n")
    (tmp_path / "bad.yaml").write_text("k: [\n")
    (tmp_path / "done.yaml").write_text("k: v\n")
    assert kseal("encrypt", "-i", "--age", public, str(tmp_path / "done.yaml")).returncode == 0
    return [*names, "bad.yaml", "done.yaml"]


def _table(shown: str) -> str:
    """The summary: what follows the (transient) progress bar's last drawing."""
    return shown[shown.rindex("┏") :]


def test_terminal_summary_lists_only_problems_sorted(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    _, public = identity
    files = _tree(tmp_path, kseal, public)
    code, shown = on_a_terminal(tmp_path, "encrypt", "-i", "--age", public, *files)
    assert code == 2, shown  # bad.yaml: invalid YAML; the others are still done
    table = _table(shown)
    assert "bad.yaml" in table and "done.yaml" in table
    assert table.index("bad.yaml") < table.index("done.yaml")  # failures first, then skips
    assert "skipped: already encrypted" in table
    assert not any(f"ok{i}.yaml" in table for i in range(4))
    assert "encrypt: 4 done, 1 skipped, 1 failed" in table
    assert table.index("done.yaml") < table.index("4 done")  # the totals come last


def test_terminal_summary_lists_every_file_with_verbose(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    _, public = identity
    files = _tree(tmp_path, kseal, public)
    for args in (
        ("--verbose", "encrypt", "-i", "--age", public, *files),
        ("encrypt", "--verbose", "-i", "--age", public, *files),
    ):
        for i in range(4):
            (tmp_path / f"ok{i}.yaml").write_text("k: v\n")
        code, shown = on_a_terminal(tmp_path, *args)
        assert code == 2, shown
        table = _table(shown)
        assert all(name in table for name in files)
        assert table.index("bad.yaml") < table.index("done.yaml") < table.index("ok0.yaml")


def test_terminal_summary_of_a_clean_run_is_the_totals(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    _, public = identity
    names = [f"t{i}.yaml" for i in range(3)]
    for name in names:
        (tmp_path / name).write_text("k: v\n")
    code, shown = on_a_terminal(tmp_path, "encrypt", "-i", "--age", public, *names)
    assert code == 0, shown
    assert "┏" not in shown and "encrypt: 3 done, 0 skipped, 0 failed" in shown


def test_a_directory_without_in_place_says_it_is_a_directory(
    kseal: Run, tmp_path: Path, identity: tuple[Path, str]
) -> None:
    _, public = identity
    tree = tmp_path / "secrets"
    tree.mkdir()
    (tree / "a.yaml").write_text("k: v\n")
    for args in (("encrypt", "--age", public), ("decrypt",), ("rotate",)):
        out = kseal(*args, str(tree))
        assert out.returncode == 8
        lines = out.stderr.decode().splitlines()
        assert lines[0] == f"kseal: error: {tree} is a directory: the files in it are " + (
            "rotated in place only" if args[0] == "rotate" else "changed in place only"
        )
        assert lines[1].startswith("kseal: hint: add -i")
    out = kseal("encrypt", "--age", public, str(tree / "*.yaml"))
    assert out.returncode == 8 and b"is a pattern" in out.stderr
    out = kseal("decrypt", str(tree / "a.yaml"), str(tree / "a.yaml"))
    assert out.returncode == 8 and b"several files are changed in place only" in out.stderr


def test_an_empty_directory_warns(kseal: Run, tmp_path: Path, identity: tuple[Path, str]) -> None:
    _, public = identity
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a format kseal walks into\n")
    for args in (("encrypt", "-i", "--age", public), ("decrypt", "-i"), ("rotate", "-i")):
        out = kseal(*args, str(empty))
        assert out.returncode == 0, out.stderr
        assert f"kseal: warning: {empty}: no .yaml".encode() in out.stderr
        assert b"0 done, 0 skipped, 0 failed" in out.stderr
