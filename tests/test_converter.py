"""llama.cpp's converter is fetched, never shipped: the sdist it comes from is checked by sha256
and unpacked whole or not at all; a missing or wrong sdist is one clear line."""

import hashlib
import io
import tarfile

import pytest

from germinate.problems import GerminateError
from germinate.student import converter

pytestmark = pytest.mark.fast


def _sdist(path, files):
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"llama_cpp_python-{converter.VERSION}/vendor/llama.cpp/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_a_sdist_that_is_not_the_pinned_one_is_refused_and_nothing_is_unpacked(tmp_path):
    fake = _sdist(tmp_path / "fake.tar.gz", {"convert_hf_to_gguf.py": "print('not llama.cpp')\n"})
    target = tmp_path / "cache" / "llama-convert"
    with pytest.raises(GerminateError, match="sha256"):
        converter.unpack(fake, target)
    assert not target.exists() and not (tmp_path / "cache").exists()


def test_only_the_converter_files_are_unpacked(tmp_path, monkeypatch):
    files = {
        "convert_hf_to_gguf.py": "print('converter')\n",
        "conversion/__init__.py": "",
        "gguf-py/gguf/__init__.py": "",
        "LICENSE": "MIT\n",
        "src/llama.cpp": "not wanted\n",
        "gguf-py/gguf/../../../escape.py": "never\n",
    }
    sdist = _sdist(tmp_path / "s.tar.gz", files)
    monkeypatch.setattr(converter, "SHA256", hashlib.sha256(sdist.read_bytes()).hexdigest())
    target = tmp_path / "cache" / "llama-convert"
    converter.unpack(sdist, target)
    got = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert got == [
        ".complete",
        "LICENSE",
        "conversion/__init__.py",
        "convert_hf_to_gguf.py",
        "gguf-py/gguf/__init__.py",
    ]
    assert not list(tmp_path.rglob("escape.py"))


def test_an_sdist_named_by_the_environment_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("GERMINATE_MODEL_CACHE", str(tmp_path / "models"))
    monkeypatch.setenv(converter.SDIST_ENV, str(tmp_path / "missing.tar.gz"))
    with pytest.raises(GerminateError) as caught:
        converter.converter_script()
    assert str(caught.value).startswith(f"{converter.SDIST_ENV}=") and "no such file" in str(caught.value)
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())
