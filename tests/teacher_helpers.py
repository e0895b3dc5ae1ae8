"""Shared setup for teacher tests: a project whose teacher points at a loopback server."""

import yaml

from germinate.project import load_project
from germinate.teacher import ChatRequest
from germinate.testing import SAMPLE_CONFIG, write_project


def project_with_teacher(path, teacher, **extra):
    return load_project(write_project(path, config={**SAMPLE_CONFIG, "teacher": teacher, **extra}))


def requests(n, stage="generate", text="hello", **params):
    return [ChatRequest([{"role": "system", "content": "Be brief."}, {"role": "user", "content": f"{text} {i}"}],
                        params, sample=i, stage=stage) for i in range(n)]


def dump(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=False))
