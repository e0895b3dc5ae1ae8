"""The corpus of deliberately broken projects in tests/corpus/broken.

Each case folder holds ``case.yaml`` (``base``: which project in tests/corpus/base it starts
from, ``delete``: files to remove, ``expect``: the exact lines ``germinate check`` must print)
and the files that replace or add to the base project's.
"""

import shutil
from pathlib import Path

import yaml

CORPUS = Path(__file__).parent / "corpus"


def cases() -> list[Path]:
    return sorted(p for p in (CORPUS / "broken").iterdir() if (p / "case.yaml").exists())


def meta(case: Path) -> dict:
    return yaml.safe_load((case / "case.yaml").read_text(encoding="utf-8"))


def materialize(case: Path, dest: Path) -> Path:
    info = meta(case)
    shutil.copytree(CORPUS / "base" / info["base"], dest)
    for name in info.get("delete", []):
        (dest / name).unlink()
    for source in sorted(case.rglob("*")):
        rel = source.relative_to(case)
        if source.is_dir() or rel == Path("case.yaml"):
            continue
        target = dest / rel
        for parent in reversed(target.relative_to(dest).parents[:-1]):
            if (dest / parent).is_file():
                (dest / parent).unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return dest
