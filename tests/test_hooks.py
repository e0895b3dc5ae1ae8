"""Each hook, implemented by a throw-away plugin class registered for one test, has the effect its
spec promises when germinate runs; and no hook goes without such a test."""

import json

import click
import pytest

from germinate import (
    ChatRequest,
    Check,
    Completion,
    TaskType,
    Teacher,
    TeacherClient,
    Validator,
    Verdict,
    hookimpl,
    hookspecs,
)
from germinate.testing import SAMPLE_CONFIG, SAMPLE_SEEDS, write_project

pytestmark = pytest.mark.fast


def _candidates(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_hook_register_task_types(tmp_path, register_plugin, germinate_cli):
    class Echo(TaskType):
        name = "echo_test"
        summary = "repeat the input"
        record_schema = {
            "type": "object",
            "required": ["input", "output"],
            "properties": {"input": {"type": "string"}, "output": {"type": "string"}},
        }

        def check_record(self, record, config):
            if record["output"] != record["input"]:
                yield "output", "must repeat the input"

    class Plugin:
        @hookimpl
        def register_task_types(self, register):
            register(Echo())

    seeds = [{"input": f"word {i}", "output": f"word {i}"} for i in range(10)]
    config = {"task_type": "echo_test", "description": "Repeat it."}
    project = write_project(tmp_path / "p", config, seeds)
    unknown = germinate_cli("check", project)
    assert unknown.exit_code == 2 and "unknown task type 'echo_test'" in unknown.stderr

    register_plugin(Plugin(), "echo-plugin")
    listed = {row["name"]: row for row in json.loads(germinate_cli("task-types", "--json").stdout)}
    assert listed["echo_test"]["plugin"] == "echo-plugin"
    assert germinate_cli("check", project).exit_code == 0
    write_project(project, config, [*seeds[:9], {"input": "a", "output": "b"}])
    broken = germinate_cli("check", project)
    assert broken.exit_code == 2 and "seeds.jsonl:10: output: must repeat the input" in broken.stderr


def test_hook_register_validators(tmp_path, register_plugin, germinate_cli):
    class NoDigits(Validator):
        name = "no_digits_test"
        order = 1

        def prepare(self, seeds, settings, task):
            class Digits(Check):
                def check(self, record):
                    if any(ch.isdigit() for ch in record["input"]):
                        return Verdict.reject("the input has a digit", score=1.0)
                    return Verdict.accept()

            return Digits()

    class Plugin:
        @hookimpl
        def register_validators(self, register):
            register(NoDigits())

    project = write_project(tmp_path / "p")
    records = [
        {"input": "Arrived broken after 3 days, no reply from support.", "output": "negative"},
        {"input": "Works well and looks great on my desk at home.", "output": "positive"},
    ]
    candidates = _candidates(tmp_path / "c.jsonl", records)
    register_plugin(Plugin(), "digits-plugin")
    result = germinate_cli(
        "validate", project, "--candidates", candidates, "--apply", "--disable", "length", "--disable", "novelty"
    )
    assert result.exit_code == 0, result.stderr
    rejected = [json.loads(line) for line in (project / "runs" / "default" / "rejected.jsonl").read_text().splitlines()]
    assert [(r["validator"], r["reason"]) for r in rejected] == [("no_digits_test", "the input has a digit")]


class _CannedClient(TeacherClient):
    identity = {"backend": "canned_test", "model": "canned"}
    free = True

    async def complete(self, request: ChatRequest) -> Completion:
        return Completion(f"canned answer to: {request.messages[-1]['content']}", 3, 4)


def test_hook_register_teachers(tmp_path, register_plugin, germinate_cli):
    class Canned(Teacher):
        name = "canned_test"
        config_schema = {"type": "object", "properties": {"backend": {"const": "canned_test"}}}

        def client(self, settings, project_root=None):
            return _CannedClient()

    class Plugin:
        @hookimpl
        def register_teachers(self, register):
            register(Canned())

    register_plugin(Plugin(), "canned-plugin")
    project = write_project(tmp_path / "p", {**SAMPLE_CONFIG, "teacher": {"backend": "canned_test"}})
    result = germinate_cli("ask", project, "how", "are", "you", "--no-cache")
    assert result.exit_code == 0, result.stderr
    assert "canned answer to: how are you" in result.stdout


def test_hook_register_commands(register_plugin, germinate_cli):
    class Plugin:
        @hookimpl
        def register_commands(self, cli):
            @cli.command("greet-test")
            @click.argument("name")
            def greet(name):
                """Say hello."""
                click.echo(f"hello, {name}")

    before = germinate_cli("greet-test", "ann")
    assert before.exit_code == 2  # no such command yet
    register_plugin(Plugin(), "greet-plugin")
    assert germinate_cli("greet-test", "ann").stdout == "hello, ann\n"


def test_hook_schema_rules(tmp_path, register_plugin, germinate_cli):
    class OnlyPositive:
        @hookimpl
        def schema_rules(self, task_type, config):
            if task_type.name == "classification":
                return {"type": "object", "properties": {"output": {"const": "positive"}}}
            return None

    project = write_project(tmp_path / "p")
    records = [
        {"input": "Stopped charging after a week and the seller ignores me.", "output": "negative"},
        {"input": "Sturdy, quiet and the battery lasts for days on end.", "output": "positive"},
    ]
    candidates = _candidates(tmp_path / "c.jsonl", records)
    register_plugin(OnlyPositive(), "positive-plugin")
    result = germinate_cli(
        "validate", project, "--candidates", candidates, "--apply", "--disable", "length", "--disable", "novelty"
    )
    assert result.exit_code == 0, result.stderr
    rejected = [json.loads(line) for line in (project / "runs" / "default" / "rejected.jsonl").read_text().splitlines()]
    assert [r["validator"] for r in rejected] == ["schema"]
    assert "positive" in rejected[0]["reason"]
    accepted = (project / "runs" / "default" / "accepted.jsonl").read_text()
    assert "battery lasts" in accepted and len(SAMPLE_SEEDS) + 1 == len(accepted.splitlines())


def test_every_hook_has_a_test_here():
    specs = {name for name, fn in vars(hookspecs).items() if callable(fn) and hasattr(fn, "germinate_spec")}
    tested = {name.removeprefix("test_hook_") for name in globals() if name.startswith("test_hook_")}
    assert specs, "no hook specs found"
    assert specs <= tested, f"hooks without a test_hook_<name> here: {sorted(specs - tested)}"
