"""Size presets (--quick, --standard) sit between task.yaml and the command line, except for a
capacity the data needs (training.max_length): there task.yaml's value wins over the preset."""

import pytest

from germinate.settings import PRESETS, resolve

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_a_preset_sets_the_run_sizes_over_task_yaml(preset):
    chosen = PRESETS[preset]
    settings = resolve({"generation": {"n": 7}, "training": {"epochs": 9}}, preset)
    assert settings.generation.n == chosen["generation"]["n"] != 7
    assert settings.training.epochs == chosen["training"]["epochs"] != 9
    assert settings.training.max_length == chosen["training"]["max_length"]


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_task_yaml_max_length_beats_the_preset_and_the_command_line_beats_both(preset):
    config = {"training": {"max_length": 2048, "epochs": 9}}
    assert resolve(config, preset).training.max_length == 2048
    assert resolve(config, preset).training.epochs == PRESETS[preset]["training"]["epochs"]
    overridden = resolve(config, preset, {"training": {"max_length": 1024}, "generation": {"n": None}})
    assert overridden.training.max_length == 1024
    assert overridden.generation.n == PRESETS[preset]["generation"]["n"]  # an option not given changes nothing


def test_without_a_preset_task_yaml_is_read_as_written():
    settings = resolve({"training": {"max_length": 300, "epochs": 2}, "generation": {"n": 5}})
    assert (settings.training.max_length, settings.training.epochs, settings.generation.n) == (300, 2, 5)
