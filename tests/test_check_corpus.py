"""Every deliberately broken input yields exactly its expected one-line errors and exit code 2 from
`germinate check` (or, for inputs check does not read, the first command that reads them), with no
traceback, no hang (a timeout per command), bounded memory (an address-space limit), the case's
folders byte-identical afterwards and nothing written outside them."""

import os

import pytest
from conftest import germinate
from corpus_cases import cases, commands, digest, materialize, materialize_root, meta, run_guarded

from germinate import hookimpl

pytestmark = pytest.mark.fast


def test_corpus_is_large_enough():
    assert len(cases()) >= 160


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_broken_input_reports_expected_lines(case, tmp_path):
    root = materialize_root(case, tmp_path / "case")
    before = digest(root)
    [outcome] = run_guarded(root, commands(case)[:1])
    assert "exception" not in outcome, outcome["exception"]
    assert outcome["exit"] == 2, outcome
    assert outcome["stderr"].splitlines() == meta(case)["expect"]
    if outcome["args"][0] == "check":
        assert outcome["stdout"] == ""
    assert digest(root) == before, "the case's folders must be exactly as they were"


@pytest.mark.parametrize("name", ["yaml-syntax", "tool-parameters-invalid-schema", "seeds-not-utf8", "seeds-fifo"])
def test_real_cli_process_prints_no_traceback(name, tmp_path):
    case = next(c for c in cases() if c.name == name)
    result = germinate("check", materialize(case, tmp_path / "p"), timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == meta(case)["expect"]


def test_every_problem_names_a_file_or_an_option():
    starts = ("task.yaml", "seeds.jsonl", "test.jsonl", "context", "prompts", "project/", "/dev/", "germinate: ")
    for case in cases():
        for line in meta(case)["expect"]:
            assert line.startswith(starts) or line.split(":")[0] in ("--max-cost", "--columns"), (case.name, line)


class _Runaway:
    """Commands that do what a broken input could make germinate do: block forever, eat memory."""

    @hookimpl
    def register_commands(self, cli):
        import click

        @cli.command("test-hang")
        @click.argument("fifo")
        def hang(fifo):
            with open(fifo, "rb") as handle:  # no writer: blocks
                handle.read()

        @cli.command("test-hog")
        def hog():
            hoard = []
            while True:
                hoard.append(bytearray(1 << 26))


def test_the_guard_stops_a_hang_and_a_memory_hog(tmp_path, register_plugin, monkeypatch):
    import corpus_cases

    register_plugin(_Runaway(), "runaway")
    # 6 s: on a loaded machine (a pip install beside it) filling the 1 GiB headroom took over 3 s
    monkeypatch.setattr(corpus_cases, "COMMAND_SECONDS", 6)
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "home").mkdir()
    hang, hog = run_guarded(tmp_path, [["test-hang", "pipe"], ["test-hog"]])
    assert "CommandTimeout" in hang["exception"] and hang["seconds"] < 15
    assert "MemoryError" in hog["exception"]
