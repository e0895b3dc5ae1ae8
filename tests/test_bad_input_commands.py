"""Bad input through every command that does work, not only `check`: each broken project of the
corpus, and faults only a working command meets (a folder it cannot write, a plugin that raises, a
corrupt run folder, no test split...), gives one-line errors naming the file, line and field,
exit code 2, no traceback, and leaves an existing run folder exactly as it was."""

import hashlib
import json
import os

import pytest
from conftest import germinate
from corpus_cases import cases, materialize, meta

from germinate import hookimpl
from germinate.validate.base import Validator, Verdict

pytestmark = pytest.mark.fast

COMMANDS = [("run",), ("generate",), ("train",), ("evaluate",), ("validate",), ("predict", "--input", "seeds.jsonl")]


def _digest(folder):
    return {
        p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _existing_run(project):
    """A run folder as an earlier generation left it."""
    run = project / "runs" / "default"
    run.mkdir(parents=True)
    row = {"index": 0, "id": "c0", "record": {"input": "what is up", "output": "x"}, "theta": {}}
    (run / "candidates.jsonl").write_text(json.dumps(row) + "\n")
    (run / "accepted.jsonl").write_text("")
    (run / "rejected.jsonl").write_text(json.dumps({**row, "validator": "schema"}) + "\n")
    return run


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_every_command_reports_a_broken_project_and_keeps_the_run(case, tmp_path, germinate_cli):
    project = materialize(case, tmp_path / "project")
    if not (project / "seeds.jsonl").is_file():
        commands_here = [c for c in COMMANDS if c[0] != "predict"]
    else:
        commands_here = COMMANDS
    _existing_run(project)
    before = _digest(project)
    for command in commands_here:
        args = [command[0], project] + [project / a if a.endswith(".jsonl") else a for a in command[1:]]
        result = germinate_cli(*args)
        assert result.exit_code == 2, (command, result.stdout, result.stderr)
        assert result.stderr.splitlines() == meta(case)["expect"], command
        assert _digest(project) == before, command


def test_corpus_covers_at_least_fifty_inputs_for_the_commands():
    assert len(cases()) * len(COMMANDS) >= 50 and len(cases()) >= 50


def _good(make_project, tmp_path):
    project = make_project(tmp_path / "good")
    return project


def test_run_folder_that_cannot_be_created(make_project, tmp_path, germinate_cli):
    project = _good(make_project, tmp_path)
    if os.geteuid() == 0:
        # root writes anywhere; what root cannot do is make a folder where a file stands
        (project / "runs").write_text("not a folder\n")
        where = str(project / "runs")
    else:
        project.chmod(0o555)
        where = str(project / "runs")
    try:
        before = _digest(project)
        result = germinate_cli("generate", project, "--n", "1")
    finally:
        project.chmod(0o755)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(where) and "kept" in line
    assert _digest(project) == before


def test_real_process_on_unwritable_run_folder_prints_no_traceback(make_project, tmp_path):
    project = _good(make_project, tmp_path)
    (project / "runs").write_text("not a folder\n")
    result = germinate("run", project, "--n", "1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


class Exploding(Validator):
    name = "exploding"
    order = 15

    def prepare(self, seeds, settings, task):
        class Check:
            def check(self, record):
                raise ZeroDivisionError("division by zero")

            def accepted(self, record):
                pass

        return Check()


class ExplodingPlugin:
    @hookimpl
    def register_validators(self, register):
        register(Exploding())


def test_validator_plugin_that_raises_is_one_line_and_run_is_kept(
    make_project, tmp_path, germinate_cli, register_plugin
):
    project = _good(make_project, tmp_path)
    run = _existing_run(project)
    register_plugin(ExplodingPlugin(), "exploding-plugin")
    before = _digest(project)
    result = germinate_cli("validate", project, "--apply")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "validation: exploding: validator raised ZeroDivisionError in check: division by zero "
        "(disable it with `validation: {exploding: false}`)"
    ]
    assert _digest(project) == before
    assert (run / "candidates.jsonl").exists()
    assert Verdict  # the public API the plugin above builds on


def test_corrupt_run_folder_names_the_line(make_project, tmp_path, germinate_cli):
    project = _good(make_project, tmp_path)
    run = _existing_run(project)
    with open(run / "candidates.jsonl", "a") as handle:
        handle.write("{not json\n" + json.dumps({"index": 2, "id": "c2", "record": {}}) + "\n")
    before = _digest(project)
    result = germinate_cli("validate", project)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{run / 'candidates.jsonl'}:2: ")
    assert _digest(project) == before


@pytest.mark.parametrize(
    "args, expected",
    [
        (("evaluate", "{p}", "--points", "teacher,oracle"), "Invalid value for --points"),
        (("evaluate", "{p}", "--points", "base"), "test.jsonl: no test split; add test.jsonl to evaluate"),
        (("train", "{p}"), "accepted.jsonl: nothing to train on; run `germinate generate` first"),
        (("predict", "{p}", "--input", "{p}/bad.jsonl"), "bad.jsonl:2: json: Expecting value (column 11)"),
        (("validate", "{p}", "--candidates", "{p}/bad.jsonl"), "bad.jsonl:2: json: Expecting value (column 11)"),
        (("bench", "{p}/context-less"), "task.json: missing; --from needs a folder with task.json and seeds.jsonl"),
        (("validate", "{p}", "--candidates", "{p}/seeds.jsonl", "--set", "novelty.threshold=2"), "novelty.threshold"),
    ],
)
def test_command_specific_bad_input(args, expected, make_project, tmp_path, germinate_cli):
    project = _good(make_project, tmp_path)
    (project / "bad.jsonl").write_text('{"input": "fine", "output": "x"}\n{"input": oops\n')
    (project / "context-less").mkdir()
    result = germinate_cli(*[a.format(p=project) for a in args])
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_bench_refuses_a_project_without_test_split_before_any_work(make_project, tmp_path, germinate_cli):
    project = _good(make_project, tmp_path)
    result = germinate_cli("bench", project, "--workdir", tmp_path / "bench")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"{project / 'test.jsonl'}: bench compares models on a test split; add one"]
    assert not (project / "runs").exists() and not (tmp_path / "bench").exists()
