"""The student model: where it comes from and how it loads.

``student.model`` in task.yaml is an embedded model name (default: SmolLM2-135M-Instruct), a GGUF
file, a local Hugging Face folder, or a hub id where a hub is reachable. A GGUF is de-quantised and
converted once into a plain HF folder in the model cache, so later loads take seconds, not a
minute. torch and transformers are imported only here, lazily.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

from germinate.embedded_models import EMBEDDED, cache_dir, locate_model
from germinate.problems import GerminateError
from germinate.settings import StudentSettings


def base_folder(student: StudentSettings) -> str:
    """The student's base model as a folder ``from_pretrained`` loads quickly."""
    if student.gguf_file:
        folder = Path(student.model).expanduser()
        if not folder.is_dir():
            raise GerminateError(f"student.gguf_file is set, so student.model must be a folder; {folder} is not")
        return hf_folder(str(folder / student.gguf_file))
    return hf_folder(student.model)


def quiet() -> None:
    """Keep transformers' own logging, progress bars and deprecation notes off a germinate user's screen."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # deprecation notes from inside transformers mean nothing to a germinate user
    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")


def hf_folder(source: str) -> str:
    """A path (or hub id) ``from_pretrained`` can load quickly; converts GGUF files once."""
    path = Path(source).expanduser()
    if source in EMBEDDED or path.suffix == ".gguf":
        gguf = locate_model(source)
        target = cache_dir() / "hf" / f"{gguf.stem}-{gguf.stat().st_size}"
        if (target / "config.json").exists():
            return str(target)
        _convert(gguf, target)
        return str(target)
    if path.is_dir():
        if not (path / "config.json").exists():
            raise GerminateError(f"student model folder {path} has no config.json")
        return str(path)
    if path.exists():
        raise GerminateError(f"student model {source!r}: expected a .gguf file or a Hugging Face folder")
    return source  # a hub id; from_pretrained says clearly when no hub is reachable


def _convert(gguf: Path, target: Path) -> None:
    quiet()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # a GGUF-loaded model refuses save_pretrained until its quantizer is gone, and its config
    # lacks ``architectures``, which later loads need
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.architectures = [type(model).__name__]
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    os.replace(tmp, target)


def load_tokenizer(folder: str):
    quiet()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        raise GerminateError(f"student model {folder} has no chat template; choose an instruction-tuned model")
    return tokenizer


def torch_dtype(name: str | None):
    import torch

    return {"bfloat16": torch.bfloat16, "float16": torch.float16}.get(name or "float32", torch.float32)


def load_model(folder: str, dtype: str | None = None, adapter: str | Path | None = None):
    """The base model, with a LoRA adapter on top when given (for predict and serve)."""
    quiet()
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging

    logging.disable_progress_bar()  # "Loading weights" bars would break the rich progress lines

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch_dtype(dtype))
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
    model.eval()
    return model
