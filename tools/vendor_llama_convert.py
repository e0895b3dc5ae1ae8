"""Vendor llama.cpp's own Hugging Face -> GGUF converter from the llama-cpp-python source
distribution that germinate pins, into core/student/llama_convert/.

    python tools/vendor_llama_convert.py [--sdist llama_cpp_python-0.3.36.tar.gz]

Without --sdist it downloads the pinned sdist with pip (``pip download --no-binary :all:``).
Either way the archive's sha256 must match the pin below. Copied unmodified, in llama.cpp's own
layout (the converter puts its gguf-py beside it on sys.path, so it runs with the gguf writer it
was written for): convert_hf_to_gguf.py, conversion/, gguf-py/gguf/, and both MIT licences.
Run it again after raising the llama-cpp-python pin (and update VERSION and SHA256 here).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "0.3.36"
SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
TARGET = Path(__file__).resolve().parents[1] / "core" / "student" / "llama_convert"
ROOT = f"llama_cpp_python-{VERSION}/vendor/llama.cpp/"
KEEP = ("convert_hf_to_gguf.py", "LICENSE", "conversion/", "gguf-py/LICENSE", "gguf-py/gguf/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path, help="a downloaded llama_cpp_python sdist (default: pip download it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        sdist = args.sdist
        if sdist is None:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "-d", scratch,
                 f"llama-cpp-python=={VERSION}"],
                check=True,
            )  # fmt: skip
            sdist = next(Path(scratch).glob("llama_cpp_python-*.tar.gz"))
        digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
        if digest != SHA256:
            sys.exit(f"{sdist}: sha256 {digest}, expected {SHA256}")
        shutil.rmtree(TARGET, ignore_errors=True)
        with tarfile.open(sdist) as archive:
            members = [
                m
                for m in archive.getmembers()
                if m.isfile()
                and m.name.startswith(ROOT)
                and m.name[len(ROOT) :].startswith(KEEP)
                and "__pycache__" not in m.name
            ]
            for member in members:
                target = TARGET / member.name[len(ROOT) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                assert source is not None
                target.write_bytes(source.read())
    (TARGET / "VENDORED.md").write_text(
        f"llama.cpp's Hugging Face -> GGUF converter, unmodified, from the llama-cpp-python {VERSION} source\n"
        f"distribution (sha256 {SHA256}), the llama.cpp that germinate builds and runs.\n"
        "Licence: MIT (LICENSE, gguf-py/LICENSE). Refresh with `python tools/vendor_llama_convert.py`;\n"
        "germinate runs it as a script (germinate.student.export), never imports it.\n",
        encoding="utf-8",
    )
    print(f"vendored {len(members)} files into {TARGET}")


if __name__ == "__main__":
    main()
