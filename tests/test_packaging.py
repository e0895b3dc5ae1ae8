"""Installing from the folders alone, as a user would without requirements-dev.txt: the core with
its extras and every built-in plugin into a fresh virtual environment (torch pinned to the wheel
on disk, as CONTRIBUTING says). What each distribution declares is enough: the CLI lists every
built-in plugin, checks and validates a project, exports its data, and the student side imports.
And the CONTRIBUTING tutorial's plugin, depending on germinate by the direct reference the
tutorial documents, installs into an empty environment by itself."""

import json
import re
import subprocess

import pytest
from test_install_third_party_plugin import REPO, fresh_venv, tutorial_files

from germinate.testing import SAMPLE_SEEDS, write_project

pytestmark = pytest.mark.slow

BUILT_IN = {
    "classification",
    "qa",
    "tool_calling",
    "extraction",
    "format",
    "length",
    "schema",
    "novelty",
    "openai",
    "anthropic",
    "local",
}


def _run(cmd, **kw):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=1800, **kw)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("packaged")
    folders = sorted((REPO / "task_types").iterdir()) + sorted((REPO / "plugins").iterdir())
    python = fresh_venv(root, "torch==2.13.0", f"{REPO}[student,export,data]", *folders, timeout=1800)
    return root, python


def test_the_folders_and_extras_bring_everything(env):
    root, python = env
    germinate = python.parent / "germinate"
    plugins = json.loads(_run([germinate, "plugins", "--json"]).stdout)
    assert {row["name"] for row in plugins} >= BUILT_IN
    assert all(row["distribution"] for row in plugins if row["name"] in BUILT_IN)

    project = write_project(root / "project")
    _run([germinate, "check", project])
    candidates = root / "candidates.jsonl"
    candidates.write_text(
        "".join(
            json.dumps({"input": f"{seed['input']} Honestly, {word}.", "output": seed["output"]}) + "\n"
            for seed, word in zip(SAMPLE_SEEDS, ["great", "fine", "odd", "meh", "wow", "sad", "bad", "ugh", "no", "hm"])
        )
    )
    _run([germinate, "validate", project, "--candidates", candidates, "--apply"])  # novelty: numpy, rouge-score
    _run([germinate, "export", project, "--data"])  # the data extra
    rows = _run(
        [
            python,
            "-c",
            "import datasets; print(len(datasets.load_dataset('parquet', data_files='"
            + str(project / "runs" / "default" / "export" / "data" / "data" / "*.parquet")
            + "', split='train')))",
        ]
    )
    accepted = (project / "runs" / "default" / "accepted.jsonl").read_text().splitlines()
    assert int(rows.stdout.split()[-1]) == len(accepted) > len(SAMPLE_SEEDS)
    # the student and export side import, with what the extras brought
    _run(
        [
            python,
            "-c",
            "import germinate.student.train, germinate.student.export, germinate.evaluate.report, "
            "llama_cpp, sentencepiece, matplotlib",
        ]
    )


def test_tutorial_plugin_with_a_direct_reference_installs_alone(tmp_path):
    doc = (REPO / "CONTRIBUTING.md").read_text()
    reference = re.search(r"<!-- direct-reference -->\n```toml\n(dependencies = .*)\n", doc).group(1)
    assert "file:///path/to/germinate" in reference
    folder = tmp_path / "germinate-banned-words"
    folder.mkdir()
    for name, text in tutorial_files().items():
        if name == "pyproject.toml":
            assert 'dependencies = ["germinate"]' in text
            text = text.replace('dependencies = ["germinate"]', reference.replace("/path/to/germinate", str(REPO)))
        (folder / name).write_text(text)
    python = fresh_venv(tmp_path, folder, timeout=1800)  # germinate comes with it, from the reference
    plugins = {row["name"]: row for row in json.loads(_run([python.parent / "germinate", "plugins", "--json"]).stdout)}
    assert plugins["banned_words"]["distribution"] == "germinate-banned-words"
