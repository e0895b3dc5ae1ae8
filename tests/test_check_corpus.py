"""Every deliberately broken project yields exactly its expected one-line errors and exit code 2."""

import hashlib

import pytest
from conftest import germinate
from corpus_cases import cases, materialize, meta

pytestmark = pytest.mark.fast


def _digest(folder):
    return {
        p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_corpus_is_large_enough():
    assert len(cases()) >= 50


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_broken_project_reports_expected_lines(case, tmp_path, germinate_cli):
    project = materialize(case, tmp_path / "project")
    before = _digest(project)
    result = germinate_cli("check", project)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == meta(case)["expect"]
    assert result.stdout == ""
    assert _digest(project) == before, "check must not touch the project"


@pytest.mark.parametrize("name", ["yaml-syntax", "tool-parameters-invalid-schema", "seeds-not-utf8"])
def test_real_cli_process_prints_no_traceback(name, tmp_path):
    case = next(c for c in cases() if c.name == name)
    result = germinate("check", materialize(case, tmp_path / "p"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == meta(case)["expect"]


def test_every_problem_names_a_file(tmp_path, germinate_cli):
    for case in cases():
        for line in meta(case)["expect"]:
            assert line.split(":")[0] in {"task.yaml", "seeds.jsonl", "test.jsonl", "context"} or line.startswith(
                "context/"
            ), line
