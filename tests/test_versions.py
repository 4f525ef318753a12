"""The supported Python versions are stated once per place that needs them, and agree:
CI's list of versions to test, the package's classifiers and requires-python, the README."""
from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def ci_versions() -> list:
    return re.search(r'^SUPPORTED="([^"]+)"', (ROOT / ".ci" / "run").read_text(), re.M).group(1).split()


def test_ci_classifiers_requires_python_and_readme_agree():
    versions = ci_versions()
    assert versions == ["3.9", "3.10", "3.11", "3.12", "3.13"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    classified = [c.rsplit(" :: ", 1)[1] for c in project["classifiers"]
                  if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert classified == versions
    assert project["requires-python"] == f">={versions[0]}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"Supported Python versions: {versions[0]} to {versions[-1]}." in readme


def test_this_interpreter_is_supported():
    assert "%d.%d" % sys.version_info[:2] in ci_versions()
