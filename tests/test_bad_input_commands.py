"""Bad input through every command that reads it, not only `check`: each broken input of the
corpus goes through every command that reads it (for a project: every command that loads one),
in a guarded child (a timeout per command, an address-space limit) and gives the case's one-line
errors naming the file, line and field, exit code 2, no traceback, and leaves an existing run
folder and everything around the project exactly as they were. Faults only a working command meets
(a folder it cannot write, a plugin that raises, a corrupt run folder, no test split...) follow."""

import json
import os

import pytest
from conftest import germinate
from corpus_cases import cases, commands, digest, existing_run, materialize_root, meta, run_guarded

from germinate import hookimpl
from germinate.validate.base import Validator, Verdict

pytestmark = pytest.mark.fast


def _digest(folder):
    return digest(folder)


def _existing_run(project):
    return existing_run(project)


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_every_command_that_reads_the_input_reports_it_and_keeps_everything(case, tmp_path):
    root = materialize_root(case, tmp_path / "case")
    if meta(case).get("commands", "project") == "project" and not (root / "project" / "runs").exists():
        existing_run(root / "project")
    before = digest(root)
    for outcome in run_guarded(root, commands(case)[1:]):
        assert "exception" not in outcome, (outcome["args"], outcome["exception"])
        assert outcome["exit"] == 2, outcome
        assert outcome["stderr"].splitlines() == meta(case)["expect"], outcome["args"]
    assert digest(root) == before, "the case's folders must be exactly as they were"


def test_corpus_covers_every_command_that_loads_a_project():
    invocations = sum(len(commands(case)) for case in cases())
    assert invocations >= 1000 and len(cases()) >= 160


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
