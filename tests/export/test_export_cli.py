"""``thermine dictionary export``: the parser the lead wires into ground/cli.py, what it
writes, and its errors (ConfigError with the option and the path, never a traceback)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from common.errors import ConfigError
from ground.export.cli import add_parser, run


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="thermine")
    add_parser(p.add_subparsers(dest="cmd", required=True))
    return p.parse_args(argv)


def test_writes_all_three_and_says_where(tmp_path: Path, capsys: Any) -> None:
    xtce, cosmos, js = tmp_path / "x" / "t.xml", tmp_path / "cosmos", tmp_path / "t.json"
    args = parse(["dictionary", "export", "--xtce", str(xtce), "--cosmos", str(cosmos),
                  "--json", str(js)])
    assert run(args) == 0
    out = capsys.readouterr().out
    for path in (xtce, cosmos / "targets" / "THERMINE", js):
        assert str(path) in out
    assert xtce.read_text().count("<MetaCommand ") > 5
    assert (cosmos / "plugin.txt").exists()
    assert (cosmos / "targets" / "THERMINE" / "cmd_tlm" / "tlm.txt").exists()
    assert js.read_text().startswith("{")


def test_exports_are_reproducible(tmp_path: Path, exports: Any) -> None:
    """The same dictionary gives the same bytes (the exports can be committed)."""
    run(parse(["dictionary", "export", "--xtce", str(tmp_path / "t.xml"), "--cosmos",
               str(tmp_path / "c"), "--json", str(tmp_path / "t.json")]))
    assert (tmp_path / "t.xml").read_bytes() == exports.xtce.read_bytes()
    assert (tmp_path / "t.json").read_bytes() == exports.json.read_bytes()
    for name in ("cmd.txt", "tlm.txt"):
        assert (tmp_path / "c" / "targets" / "THERMINE" / "cmd_tlm" / name).read_bytes() == \
            (exports.cosmos / "cmd_tlm" / name).read_bytes()


def test_one_output_at_least() -> None:
    with pytest.raises(ConfigError, match="--xtce FILE, --cosmos DIR, --json FILE"):
        run(parse(["dictionary", "export"]))


def test_export_is_required() -> None:
    with pytest.raises(SystemExit):
        parse(["dictionary"])


@pytest.mark.parametrize("option", ["--xtce", "--json"])
def test_a_directory_is_not_a_file(tmp_path: Path, option: str) -> None:
    with pytest.raises(ConfigError, match=f"{option} {tmp_path}: cannot write it"):
        run(parse(["dictionary", "export", option, str(tmp_path)]))


def test_cosmos_needs_a_directory(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(ConfigError, match="is a file, not a directory"):
        run(parse(["dictionary", "export", "--cosmos", str(f)]))


def test_through_thermine_once_wired(tmp_path: Path) -> None:
    from ground import cli

    if "dictionary" not in cli._parser().format_help():
        pytest.skip("ground/cli.py does not offer `dictionary` yet (the lead wires it)")
    assert cli.main(["dictionary", "export", "--json", str(tmp_path / "t.json")]) == 0
    assert cli.main(["dictionary", "export", "--json", str(tmp_path)]) == 2


def test_a_dictionary_the_tools_cannot_take_is_a_config_error() -> None:
    import dataclasses

    from common.dictionary import DICTIONARY, Channel
    from common.dictionary.command_rows import Arg, Command
    from ground.export.cosmos import cmd_text, tlm_text
    from ground.export.json_dict import document
    from ground.export.xtce import xtce_text

    bad_arg = dataclasses.replace(DICTIONARY, commands={
        **DICTIONARY.commands,
        "PING": Command(opcode=99, handler="ping", args={"opcode": Arg(type="int",
                                                                       encoding="u16")})})
    for export in (xtce_text, cmd_text):
        with pytest.raises(ConfigError, match="PING.args.opcode"):
            export(bad_arg)
    channels = dataclasses.replace(DICTIONARY.channels, diagnostics=[
        *DICTIONARY.channels.diagnostics, Channel(name="time_coarse", unit="s", packet="LINK")])
    twice = dataclasses.replace(DICTIONARY, channels=channels)
    for make in (xtce_text, tlm_text, document):
        with pytest.raises(ConfigError, match="time_coarse"):
            make(twice)
