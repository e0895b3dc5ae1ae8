"""A third-party plugin built from the CONTRIBUTING tutorial, pip-installed into a fresh virtual
environment beside the core, shows up in `germinate plugins` and in the cascade; uninstalling it
removes it. A plugin that fails to import costs one warning line, not the CLI."""

import json
import re
import subprocess
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def tutorial_files() -> dict[str, str]:
    doc = (REPO / "CONTRIBUTING.md").read_text()
    return dict(re.findall(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)```", doc, re.S))


def _run(cmd, timeout=900, **kw):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def fresh_venv(root: Path, *requirements, timeout: int = 900) -> Path:
    """A new virtual environment under ``root`` with ``requirements`` pip-installed; its python.
    --no-compile: nothing is byte-compiled (the packaging test's install took 190 s before this
    flag and 132 s after, in two CI-like runs)."""
    venv.create(root / "venv", with_pip=True)
    python = root / "venv" / "bin" / "python"
    _run([python, "-m", "pip", "install", "-q", "--no-compile", *requirements], timeout=timeout)
    return python


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("venv")
    python = fresh_venv(
        root, REPO, REPO / "plugins" / "format", REPO / "plugins" / "length", REPO / "task_types" / "classification"
    )
    return root, python


def _germinate(python, *args):
    return subprocess.run([python.parent / "germinate", *args], capture_output=True, text=True, timeout=120)


def test_tutorial_plugin_installs_lists_and_uninstalls(env):
    root, python = env
    files = tutorial_files()
    assert set(files) == {"pyproject.toml", "germinate_banned_words.py"}
    folder = root / "germinate-banned-words"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)

    before = json.loads(_germinate(python, "plugins", "--json").stdout)
    assert "banned_words" not in {row["name"] for row in before}
    _run([python, "-m", "pip", "install", "-q", "--no-compile", folder])

    plugins = {row["name"]: row for row in json.loads(_germinate(python, "plugins", "--json").stdout)}
    assert plugins["banned_words"]["distribution"] == "germinate-banned-words"
    assert plugins["banned_words"]["version"] == "0.1.0"
    assert plugins["banned_words"]["hooks"] == ["register_validators"]
    assert plugins["banned_words"]["provides"]["validators"] == ["banned_words"]
    order = [row["name"] for row in json.loads(_germinate(python, "validators", "--json").stdout)]
    assert order == ["format", "banned_words", "length"]

    project = root / "project"
    from germinate.testing import write_project

    write_project(
        project,
        config={
            "task_type": "classification",
            "description": "Sentiment.",
            "labels": ["positive", "negative"],
            "validation": {"banned_words": {"words": ["refund"]}},
        },
    )
    assert _germinate(python, "check", project).returncode == 0
    (project / "candidates.jsonl").write_text(
        json.dumps({"input": "They never sent my refund back to me", "output": "negative"}) + "\n"
    )
    result = _germinate(python, "validate", project, "--candidates", project / "candidates.jsonl", "--apply")
    assert result.returncode == 0, result.stderr
    rejected = json.loads((project / "runs" / "default" / "rejected.jsonl").read_text())
    assert rejected["validator"] == "banned_words" and rejected["reason"] == "input: contains banned word 'refund'"

    _run([python, "-m", "pip", "uninstall", "-y", "-q", "germinate-banned-words"])
    after = {row["name"] for row in json.loads(_germinate(python, "plugins", "--json").stdout)}
    assert "banned_words" not in after and "format" in after
    wrong = _germinate(python, "check", project)
    assert wrong.returncode == 2 and "validation.banned_words: unknown validator" in wrong.stderr


def test_plugin_failing_on_import_is_one_line(env):
    root, python = env
    folder = root / "germinate-broken"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "germinate-broken"\nversion = "0.0.1"\n'
        '[project.entry-points.germinate]\nbroken = "germinate_broken"\n'
        '[tool.setuptools]\npy-modules = ["germinate_broken"]\n'
    )
    (folder / "germinate_broken.py").write_text('raise RuntimeError("this plugin is broken on purpose")\n')
    _run([python, "-m", "pip", "install", "-q", "--no-compile", folder])
    try:
        result = _germinate(python, "plugins", "--json")
        assert result.returncode == 0
        assert result.stderr.strip() == (
            "germinate: warning: plugin 'broken' (germinate-broken) failed to import: "
            "RuntimeError: this plugin is broken on purpose"
        )
        assert "format" in {row["name"] for row in json.loads(result.stdout)}
    finally:
        _run([python, "-m", "pip", "uninstall", "-y", "-q", "germinate-broken"])
