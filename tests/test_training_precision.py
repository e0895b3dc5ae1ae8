"""Which precision training picks, without a GPU: bf16 on a CUDA device that has it, fp16 on one that
does not, float32 on the CPU, and student.dtype always wins; which process writes under
`accelerate launch`."""

import pytest

from germinate.problems import GerminateError
from germinate.student.train import Precision, choose_precision, main_process, wants_cpu

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    ("requested", "cuda", "bf16_supported", "expected"),
    [
        # unset: chosen by the device
        (None, True, True, Precision("bfloat16", bf16=True)),
        (None, True, False, Precision("float16", fp16=True)),
        (None, False, False, Precision(None)),
        (None, False, True, Precision(None)),
        # set: student.dtype wins, with the autocast that matches it on CUDA
        ("float32", True, True, Precision("float32")),
        ("float16", True, True, Precision("float16", fp16=True)),
        ("bfloat16", True, True, Precision("bfloat16", bf16=True)),
        ("bfloat16", False, False, Precision("bfloat16")),
        ("float16", False, False, Precision("float16")),
        ("float32", False, False, Precision("float32")),
    ],
)
def test_precision_choice(requested, cuda, bf16_supported, expected):
    chosen = choose_precision(requested, cuda, bf16_supported)
    assert chosen == expected
    assert not (chosen.bf16 and chosen.fp16)
    assert not cuda or (chosen.bf16 == (chosen.dtype == "bfloat16") and chosen.fp16 == (chosen.dtype == "float16"))


def test_bf16_asked_for_on_a_gpu_without_it_is_a_clear_error():
    with pytest.raises(GerminateError) as caught:
        choose_precision("bfloat16", cuda=True, bf16_supported=False)
    assert str(caught.value).startswith("student.dtype: bfloat16 is not supported on this GPU")


def test_precision_names_say_what_happens():
    assert Precision("bfloat16", bf16=True).name == "bfloat16 weights, bf16 mixed"
    assert Precision(None).name == "float32 weights, no mixed precision"


def test_only_rank_zero_is_the_main_process(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    assert main_process()
    monkeypatch.setenv("RANK", "0")
    assert main_process()
    monkeypatch.setenv("RANK", "1")
    assert not main_process()


def test_accelerate_cpu_flag_forces_the_cpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.delenv("ACCELERATE_USE_CPU", raising=False)
    assert not wants_cpu()
    monkeypatch.setenv("ACCELERATE_USE_CPU", "True")
    assert wants_cpu()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("ACCELERATE_USE_CPU")
    assert wants_cpu()
