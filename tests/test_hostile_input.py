"""Hostile input, the parts a broken-project corpus cannot show: what still works (links inside the
project, raised limits, the judge's prompt file), that nothing is fetched or evaluated, that one
budget holds across engines, that secrets are never echoed, and the building blocks' own contracts
(the bounded reader, strict JSON, the template renderer, the schema layer, redaction)."""

import http.server
import json
import os
import threading

import pytest
from conftest import germinate
from teacher_helpers import project_with_teacher, requests

from germinate.files import read_bytes
from germinate.jsonl import JSONValueError, parse_json, write_jsonl
from germinate.problems import GerminateError, Problem
from germinate.project.errors import schema_problems
from germinate.project.schemas import check_user_schema, schema_validator
from germinate.secrets import redact
from germinate.tasks.templates import TemplateError, check, fill
from germinate.teachers.cost import Budget
from germinate.teachers.engine import run_sync
from germinate.teachers.engines import Engines
from germinate.teachers.setup import make_engine
from germinate.testing import SAMPLE_CONFIG, SAMPLE_SEEDS
from germinate.testing.loopback import LoopbackServer

pytestmark = pytest.mark.fast

KEY = "sk-proj-Zq8aW3xY7bN2mK5pL9rT4vC1"


def _digest(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- the bounded reader ------------------------------------------------------------------------------


def test_reader_takes_a_regular_file_and_a_link_inside_the_root(tmp_path):
    (tmp_path / "data.txt").write_bytes(b"12345")
    (tmp_path / "alias.txt").symlink_to("data.txt")
    assert read_bytes(tmp_path / "alias.txt", "alias.txt", limit=5, setting="limits.x", root=tmp_path) == b"12345"
    with pytest.raises(GerminateError) as error:
        read_bytes(tmp_path / "data.txt", "data.txt", limit=4, setting="limits.x", root=tmp_path)
    assert str(error.value) == (
        "data.txt: 5 bytes, more than limits.x allows (4 bytes); raise limits.x in task.yaml if the file is meant "
        "to be this big"
    )


def test_a_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(GerminateError) as error:  # opening it for reading would wait for a writer
        read_bytes(tmp_path / "pipe", "pipe", limit=10, setting="limits.x")
    assert str(error.value) == "pipe: is a named pipe (FIFO), not a regular file"


def test_links_and_raised_limits_inside_the_project_pass_check(make_project, tmp_path, germinate_cli):
    big = [{"input": f"{row['input']} " + "More words. " * 20, "output": row["output"]} for row in SAMPLE_SEEDS]
    project = make_project(
        config={**SAMPLE_CONFIG, "limits": {"records_mb": 0.01, "context_file_mb": 0.001}},
        seeds=big,
        files={"docs/guide.txt": "A short guide.\n\nIt has two paragraphs.\n"},
    )
    (project / "context").mkdir()
    (project / "context" / "guide.txt").symlink_to("../docs/guide.txt")
    assert germinate_cli("check", project).exit_code == 0
    (project / "task.yaml").write_text(
        (project / "task.yaml").read_text().replace("records_mb: 0.01", "records_mb: 0.001")
    )
    result = germinate_cli("check", project)
    assert result.exit_code == 2 and result.stderr.startswith("seeds.jsonl: ") and "limits.records_mb" in result.stderr


# -- strict JSON and writers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, field, message",
    [
        ('{"a": 1, "a": 2}', "json", "key 'a' given twice"),
        ('{"a": NaN}', "json", "NaN is not a number JSON allows"),
        ('{"a": 1e400}', "json", "1e400 is too large for a number"),
        ('{"a": ' + "1" * 101 + "}", "json", "an integer of 101 digits (at most 100)"),
        ('{"a": {"b": "\\ud800"}}', "a.b", "a lone surrogate (\\ud800) is not Unicode text"),
        ("[" * 65 + "]" * 65, "[0][0][0]", "nested more than 64 levels deep"),
    ],
)
def test_strict_json_refuses_what_later_code_cannot_take(text, field, message):
    with pytest.raises(JSONValueError) as error:
        parse_json(text)
    assert (error.value.field, error.value.message) == (field, message)


def test_strict_json_takes_ordinary_values():
    assert parse_json('{"a": [1, 2.5, -3, "é", null, true], "b": {"c": ' + "9" * 100 + "}}")["b"]["c"] == int("9" * 100)


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "rows.jsonl"
    write_jsonl(path, [{"a": 1}])
    with pytest.raises(UnicodeEncodeError):
        write_jsonl(path, [{"a": 2}, {"a": "\ud800"}])
    assert path.read_text() == '{"a": 1}\n' and sorted(p.name for p in tmp_path.iterdir()) == ["rows.jsonl"]


# -- templates -----------------------------------------------------------------------------------------


def test_fill_inserts_values_as_text_and_never_evaluates_them():
    assert fill("{a} and {{b}}", {"a": "{description.__class__}"}) == "{description.__class__} and {b}"
    with pytest.raises(TemplateError, match="only plain names"):
        fill("{a.__class__}", {"a": "x"})


def test_check_names_the_line_of_a_lone_brace():
    with pytest.raises(TemplateError) as error:
        check("line one\nline two {oops\n", ["x"])
    assert error.value.line == 2


def test_readme_judge_prompt_file_belongs_to_evaluation(make_project, germinate_cli):
    """README: replace the judge's prompt with prompts/judge.txt; generation must not refuse it."""
    project = make_project(
        files={"prompts/judge.txt": "Task: {description}\n{input}\nReference: {reference}\nAnswer: {prediction}\n"}
    )
    assert germinate_cli("check", project).exit_code == 0
    dry = germinate_cli("generate", project, "--n", "2", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    # the judge's prompt changes nothing in generation: the same plan as without the file
    (project / "prompts" / "judge.txt").unlink()
    plain = germinate_cli("generate", project, "--n", "2", "--dry-run")
    assert json.loads(dry.stdout) == json.loads(plain.stdout)
    assert json.loads(dry.stdout)["at_least_calls"] > len(SAMPLE_SEEDS)


# -- user JSON Schemas -----------------------------------------------------------------------------


class _Counting(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):
        type(self).hits += 1
        body = json.dumps({"type": "integer"}).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_no_reference_is_ever_fetched():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/n.json"
        schema = {"type": "object", "properties": {"n": {"$ref": url}}}
        assert check_user_schema(schema) == [
            (
                ("properties", "n", "$ref"),
                f"reference {url!r} leaves the schema, and germinate fetches nothing: inline it, or put it under "
                "$defs and write '#/$defs/<name>'",
            )
        ]
        [(_, message)] = list(schema_problems(schema, {"n": "x"}))
        assert message.startswith("cannot be checked, the schema itself is broken")
    finally:
        server.shutdown()
    assert _Counting.hits == 0


def test_local_references_and_recursive_schemas_still_work():
    tree = {
        "type": "object",
        "properties": {"kids": {"type": "array", "items": {"$ref": "#"}}, "n": {"$ref": "#/$defs/n"}},
    }
    tree["$defs"] = {"n": {"type": "integer"}}
    assert check_user_schema(tree) == []
    assert list(schema_problems(tree, {"kids": [{"kids": [{"n": 1}]}], "n": 2})) == []
    assert list(schema_problems(tree, {"kids": [{"n": "x"}]})) == [
        (("kids", 0, "n"), "expected integer, got string 'x'")
    ]


def test_a_backtracking_pattern_fails_one_value_instead_of_hanging():
    validator = schema_validator({"type": "string", "pattern": "^(a|aa)+$"})
    [error] = list(validator.iter_errors("a" * 64 + "!"))
    assert "took longer than" in error.message
    assert list(validator.iter_errors("aaaa")) == []


def test_validate_refuses_a_non_finite_override(make_project, germinate_cli):
    project = make_project()
    rows = "".join(json.dumps(r) + "\n" for r in SAMPLE_SEEDS)
    (project / "mine.jsonl").write_text(rows)
    result = germinate_cli("validate", project, "--candidates", project / "mine.jsonl", "--set", "novelty.tau_max=.nan")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["--set: novelty.tau_max=.nan: .nan is not a finite number"]
    result = germinate_cli(
        "validate", project, "--candidates", project / "mine.jsonl", "--set", "length.lower_percentile=99"
    )
    assert result.stderr.splitlines() == ["validation: length.lower_percentile: 99 is above upper_percentile (95)"]


def test_validate_writes_nothing_without_apply(make_project, germinate_cli):
    project = make_project()
    (project / "mine.jsonl").write_text("".join(json.dumps(r) + "\n" for r in SAMPLE_SEEDS))
    before = _digest(project)
    shown = germinate_cli("validate", project, "--candidates", project / "mine.jsonl")
    assert shown.exit_code == 0 and "nothing written" in shown.stdout
    assert _digest(project) == before and not (project / "runs").exists()
    assert germinate_cli("validate", project, "--candidates", project / "mine.jsonl", "--apply").exit_code == 0
    assert (project / "runs" / "default" / "validation.json").exists()


# -- secrets -----------------------------------------------------------------------------------------


def test_redact_blanks_keys_and_keeps_ordinary_text():
    assert redact(f"key {KEY} and Bearer abcDEF123ghiJKL456") == "key [redacted] and [redacted]"
    kept = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 /tmp/pytest-of-root/test_Foo0/x max_tokens"
    assert redact(kept) == kept


def test_a_problem_line_is_one_redacted_line():
    assert str(Problem("task.yaml", 3, "x", f"bad {KEY}\nvalue")) == "task.yaml:3: x: bad [redacted]\\nvalue"


def test_no_command_echoes_a_key_from_task_yaml(make_project):
    project = make_project(config={**SAMPLE_CONFIG, "teacher": {"backend": "openai", "model": KEY, "api_key_env": KEY}})
    for args in (("check", project), ("generate", project, "--dry-run"), ("ask", project, "hi", "--dry-run")):
        result = germinate(*args, timeout=120)  # a real process: everything it prints is checked
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert KEY not in result.stdout + result.stderr and KEY[:12] not in result.stderr, args


def test_usage_errors_are_one_line_in_a_real_process(make_project):
    result = germinate("generate", make_project(), "--max-cost", "nan", timeout=120)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["germinate: Invalid value for '--max-cost': 'nan' is not a finite number"]


# -- one budget ---------------------------------------------------------------------------------------


def test_one_budget_holds_across_engines(tmp_path):
    """run --max-cost gives the teacher's and the judge's engines one Budget: once the first has
    spent it, the second sends nothing."""
    with LoopbackServer() as server:
        teacher = {"backend": "openai", "model": "loop-model", "base_url": server.url + "/v1", "concurrency": 1}
        project = project_with_teacher(
            tmp_path / "p", teacher, prices={"loop-model": {"input": 1000.0, "output": 2000.0}}
        )
        budget = Budget(0.05)  # each call costs ~0.03 at these prices
        first = run_sync(make_engine(project, budget=budget), requests(10))
        sent = len(server.calls)
        second = run_sync(make_engine(project, budget=budget, use_cache=False), requests(5, text="judge"))
    assert 1 <= sent < 10 and budget.reached and budget.spent >= 0.05
    assert all(r.error == "budget" for r in first if not r.ok)
    assert [r.error for r in second] == ["budget"] * 5 and len(server.calls) == sent


def test_engines_share_one_budget_and_count_every_model_after_close(tmp_path):
    """The teacher's engine and one made for another model (a judge, a validator's) share the
    command's budget, and their calls are still counted once the engines are closed."""
    prices = {"loop-model": {"input": 1000.0, "output": 2000.0}, "other-model": {"input": 1000.0, "output": 2000.0}}
    with LoopbackServer() as server:
        teacher = {"backend": "openai", "model": "loop-model", "base_url": server.url + "/v1", "concurrency": 1}
        project = project_with_teacher(tmp_path / "p", teacher, prices=prices)
        budget = Budget(0.05)  # each call costs ~0.03 at these prices
        engines = Engines(project, budget=budget)
        try:
            assert engines.judge(None) is engines.get()  # no judge named: the teacher judges
            other = engines.judge({"model": "other-model"})
            assert other is not engines.get() and other is engines.get({"model": "other-model"})
            first = run_sync(engines.get(), requests(1, stage="evaluate"))
            second = run_sync(other, requests(5, stage="judge", text="judge"))
        finally:
            engines.close()
    assert [r.ok for r in first] == [True]
    sent = [r for r in second if r.ok]
    assert 1 <= len(sent) < 5 and budget.reached  # the judge stopped on the budget the teacher had used
    rows = {(row["stage"], row["model"]): row for row in engines.cost_rows()}
    assert rows[("evaluate", "loop-model")]["calls"] == 1
    assert rows[("judge", "other-model")]["calls"] == len(sent)
    judged = engines.usage("judge")
    assert judged.calls == len(sent) and judged.cost == pytest.approx(rows[("judge", "other-model")]["cost"])
    assert engines.usage("evaluate").cost + judged.cost == pytest.approx(budget.spent)


def test_an_unpriced_model_is_refused_only_under_a_budget(tmp_path):
    with LoopbackServer() as server:
        teacher = {"backend": "openai", "model": "house-model", "base_url": server.url + "/v1"}
        project = project_with_teacher(tmp_path / "p", teacher)
        with pytest.raises(GerminateError) as error:
            make_engine(project, max_cost=1.0)
        assert str(error.value).startswith("--max-cost: no price is known for 'house-model' (teacher)")
        make_engine(project).close()  # no budget, no price needed
        priced = project_with_teacher(tmp_path / "q", teacher, prices={"house-model": {"input": 1.0, "output": 2.0}})
        make_engine(priced, max_cost=1.0).close()
    assert server.calls == []


def test_germinate_alone_still_shows_its_help(germinate_cli):
    result = germinate_cli()
    assert result.exit_code == 2
    assert "[OPTIONS] COMMAND [ARGS]" in result.stdout + result.stderr  # in process, click names it "cli"
    assert len((result.stdout + result.stderr).splitlines()) > 5


# -- what editors and spreadsheets write is read, what is shown is safe to show ----------------------


def test_a_byte_order_mark_and_crlf_are_read_like_plain_utf8(make_project, germinate_cli, tmp_path):
    # Notepad and Excel's "CSV UTF-8" start files with a byte order mark; Windows ends lines in CRLF
    project = make_project()
    bom = b"\xef\xbb\xbf"
    for name in ("seeds.jsonl", "task.yaml"):
        text = (project / name).read_bytes().replace(b"\n", b"\r\n")
        (project / name).write_bytes(bom + text)
    (project / "test.jsonl").write_bytes(bom + json.dumps({"input": "Fine.", "output": "positive"}).encode() + b"\r\n")
    (project / "prompts").mkdir()
    (project / "prompts" / "system.txt").write_bytes(bom + b"You write reviews.\r\nTask: {description}\r\n")
    result = germinate_cli("check", project)
    assert result.exit_code == 0, result.stderr
    candidates = tmp_path / "c.jsonl"
    candidates.write_bytes(bom + json.dumps({"input": "Fine product.", "output": "positive"}).encode() + b"\n")
    result = germinate_cli("validate", project, "--candidates", candidates)
    assert result.exit_code == 0, result.stderr
    table = tmp_path / "t.csv"
    table.write_bytes(bom + b"input,output\r\nGreat.,positive\r\nAwful.,negative\r\n")
    result = germinate_cli(
        "init", tmp_path / "new", "--from", table, "--task-type", "classification", "--description", "d"
    )
    assert result.exit_code == 0, result.stderr
    assert "labels read from the data: " in result.stdout


def test_init_shows_data_it_read_escaped_and_redacted(tmp_path, germinate_cli):
    table = tmp_path / "t.csv"
    table.write_text(f"input,output\na,{KEY}\nb,\x1b[2Jneg\n", encoding="utf-8")
    result = germinate_cli(
        "init", tmp_path / "new", "--from", table, "--task-type", "classification", "--description", "d"
    )
    assert KEY not in result.stdout and "\x1b" not in result.stdout
    assert '"[redacted]"' in result.stdout and "\\u001b[2Jneg" in result.stdout


def test_a_problem_line_escapes_every_control_and_invisible_character():
    text = "a\x1b[2J b\x85 c\u2028 d\u2029 e\u202e f\u200b g\x7f h\udcff i\x0b j\x1c k\tl café 中文 😀"
    shown = str(Problem("f", None, "x", text))
    assert shown.splitlines() == [shown]
    assert shown == (
        "f: x: a\\x1b[2J b\\x85 c\\u2028 d\\u2029 e\\u202e f\\u200b g\\x7f h\\udcff i\\x0b j\\x1c k\tl café 中文 😀"
    )


def test_redact_blanks_the_password_of_a_url():
    assert redact("cannot reach https://bob:hunter2pass@proxy.example.com/v1") == (
        "cannot reach https://bob:[redacted]@proxy.example.com/v1"
    )
    kept = "https://proxy.example.com/v1 http://bob@host/a:b@c"
    assert redact(kept) == kept


@pytest.mark.parametrize("number", ["90", "-3", "0", "+4", "1.5", "1.0e+3"])
def test_yaml_numbers_written_as_json_writes_them_are_taken(number):
    import yaml

    from germinate.project.yamlfile import parse_value

    assert parse_value(number, "--set") == yaml.safe_load(number) == json.loads(number.lstrip("+"))


def test_a_required_property_under_additional_properties_is_a_schema_problem_only_when_closed():
    closed = {"type": "object", "properties": {"a": {}}, "required": ["a", "b"]}
    assert [where for where, _ in check_user_schema(closed)] == [("required",)]
    for open_ in ({"additionalProperties": {"type": "string"}}, {"patternProperties": {"^b": {}}}):
        assert check_user_schema({**closed, **open_}) == []


def test_a_relative_model_path_is_read_from_the_project_folder(tmp_path, monkeypatch):
    """A local model named by a relative path is the project's file wherever germinate runs from;
    check finds it there (and only a regular file passes)."""
    from germinate.embedded_models import locate_model, model_problem

    project = tmp_path / "p"
    project.mkdir()
    (project / "models").mkdir()
    (project / "models" / "teacher.gguf").write_bytes(b"GGUF")
    monkeypatch.chdir(tmp_path)  # not the project folder
    assert locate_model("models/teacher.gguf", project) == project / "models" / "teacher.gguf"
    assert model_problem("models/teacher.gguf", project) is None
    assert model_problem("models", project) == "model 'models' is not a file"
    assert model_problem("models/teacher.gguf") is not None  # without the project: from the current folder
