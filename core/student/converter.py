"""llama.cpp's own Hugging Face -> GGUF converter, fetched on first use, never copied into germinate.

The converter (``convert_hf_to_gguf.py``, its ``conversion/`` package and the ``gguf-py`` writer it
was written for) ships in the llama-cpp-python source distribution, the same llama.cpp whose
bindings germinate runs. The first ``germinate export --format gguf|ollama`` takes that sdist at
the pinned version (from ``GERMINATE_LLAMA_SDIST`` when set, else ``pip download``, which pip's
cache often answers without the network), checks its sha256, and unpacks only those files into
germinate's cache folder. Later exports run it from there, as a script, in its own layout.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from germinate.embedded_models import cache_dir
from germinate.problems import GerminateError

VERSION = "0.3.36"
SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
SDIST_ENV = "GERMINATE_LLAMA_SDIST"
_ROOT = f"llama_cpp_python-{VERSION}/vendor/llama.cpp/"
_KEEP = ("convert_hf_to_gguf.py", "LICENSE", "conversion/", "gguf-py/LICENSE", "gguf-py/gguf/")
_DOWNLOAD = f"pip download --no-binary :all: --no-deps llama-cpp-python=={VERSION}"


def cache_folder() -> Path:
    """Where the unpacked converter lives: beside the embedded models (``GERMINATE_MODEL_CACHE``)."""
    return cache_dir() / f"llama-convert-{VERSION}"


def converter_script() -> Path:
    """The converter script, unpacked first if this is the first export on this machine."""
    folder = cache_folder()
    script = folder / "convert_hf_to_gguf.py"
    if (folder / ".complete").is_file() and script.is_file():
        return script
    with tempfile.TemporaryDirectory() as scratch:
        unpack(_sdist(Path(scratch)), folder)
    return script


def _sdist(scratch: Path) -> Path:
    given = os.environ.get(SDIST_ENV)
    if given:
        path = Path(given)
        if not path.is_file():
            raise GerminateError(f"{SDIST_ENV}={given}: no such file (expected llama_cpp_python-{VERSION}.tar.gz)")
        return path
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "-q", "-d", str(scratch),
         f"llama-cpp-python=={VERSION}"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    found = sorted(scratch.glob("llama_cpp_python-*.tar.gz"))
    if done.returncode != 0 or not found:
        last = [line for line in done.stderr.splitlines() if line.strip()][-1:] or [f"exit {done.returncode}"]
        raise GerminateError(
            f"GGUF export needs llama.cpp's converter from the llama-cpp-python {VERSION} source distribution "
            f"and pip could not download it ({last[0].strip()[:200]}); where there is a connection run "
            f"`{_DOWNLOAD}`, then set {SDIST_ENV} to the downloaded file"
        )
    return found[0]


def unpack(sdist: Path, folder: Path) -> None:
    """The converter's files from ``sdist`` (sha256-checked) into ``folder``, whole or not at all."""
    digest = hashlib.sha256()
    with sdist.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != SHA256:
        raise GerminateError(
            f"{sdist}: sha256 {digest.hexdigest()}, not that of llama-cpp-python {VERSION}'s source distribution"
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        with tarfile.open(sdist) as archive:
            for member in archive.getmembers():
                inner = member.name[len(_ROOT) :] if member.name.startswith(_ROOT) else ""
                if not member.isfile() or not inner.startswith(_KEEP) or "__pycache__" in inner or ".." in inner:
                    continue
                source = archive.extractfile(member)
                if source is None:
                    continue
                target = partial / inner
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(source.read())
        (partial / ".complete").write_text(f"llama-cpp-python {VERSION} sha256 {SHA256}\n", encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(partial, folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
