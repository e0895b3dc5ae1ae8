"""The optional embedded Qwen2.5-Coder-1.5B as a judge, calibrated on real hotpotqa items: every
verdict is readable and it tells right from wrong answers better than chance. Skips when the model
is not installed (CI never installs it: requirements-judge.txt)."""

import pytest

from germinate.evaluate.harness import test_records as evaluation_records
from germinate.evaluate.judge import JUDGE_PROMPT, calibrate, calibration_items
from germinate.problems import GerminateError
from germinate.project.load import load_project
from germinate.project.scaffold import init_from
from germinate.settings import EvalSettings
from germinate.teachers.setup import make_engine

pytestmark = pytest.mark.slow

JUDGE = "qwen2.5-coder-1.5b"


@pytest.fixture(scope="module")
def judge_installed():
    from germinate.embedded_models import locate_model

    try:
        locate_model(JUDGE)
    except GerminateError as exc:
        pytest.skip(str(exc))


def test_qwen_1_5b_judge_calibrates_above_chance(judge_installed, datasets, tmp_path):
    folder = tmp_path / "hotpot"
    init_from(datasets / "hotpotqa", folder)
    project = load_project(folder)
    records = evaluation_records(project, EvalSettings(max_examples=4, seed=0))
    items = calibration_items(project.task_type, records, 4)
    engine = make_engine(project, override={"backend": "local", "model": JUDGE}, replace=True, use_cache=False)
    try:
        result = calibrate(engine, JUDGE_PROMPT, project.config["description"], items, retest=4)
    finally:
        engine.close()
    assert result["items"] == 12 and result["unreadable"] == 0
    assert result["kappa"] is not None and result["kappa"] > 0
    assert result["retest"]["items"] == 4 and result["retest"]["agreement"] is not None
