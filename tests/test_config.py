"""[tool.leaklint]: finding the file, reading every key, one-line errors naming file and key."""
from __future__ import annotations

from pathlib import Path

import pytest

from leaklint.config import ConfigError, find_config_file, load_config
from leaklint.engine import DEFAULT_MAX_FILE_BYTES


def write_config(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pyproject.toml"
    path.write_text(body)
    return path


def test_nearest_pyproject_with_a_leaklint_table_wins(tmp_path):
    outer = write_config(tmp_path, "[tool.leaklint]\n")
    write_config(tmp_path / "a", "[project]\nname = 'a'\n")  # someone else's: skipped
    inner = write_config(tmp_path / "a" / "b", "[tool.leaklint]\nselect = []\n")
    (tmp_path / "a" / "b" / "c").mkdir()
    assert find_config_file(str(tmp_path / "a" / "b" / "c")) == str(inner)
    assert find_config_file(str(tmp_path / "a")) == str(outer)


def test_a_broken_pyproject_that_is_not_ours_is_skipped(tmp_path):
    outer = write_config(tmp_path, "[tool.leaklint]\n")
    write_config(tmp_path / "a", "this is [not toml\n")
    assert find_config_file(str(tmp_path / "a")) == str(outer)


def test_no_configuration_gives_the_defaults():
    config = load_config(None)
    assert config.select is None and config.exclude is None and config.ignore == []
    assert config.max_file_bytes == DEFAULT_MAX_FILE_BYTES and config.skip_generated is False


def test_every_key_is_read(tmp_path, fake_rules):
    path = write_config(tmp_path, """
[tool.leaklint]
select = ["lkl8", "LKL901"]
ignore = ["LKL0"]
extend_select = ["LKL902"]
exclude = ["gen"]
extend-exclude = ["tests/data"]
jobs = 3
cache-dir = "cache"
max-file-bytes = 1000
skip-generated = true
marker-limit = 9
extra_markers = ["A"]

[tool.leaklint.per-file-ignores]
"tests/*" = ["LKL8"]
""")
    config = load_config(str(path))
    root = str(tmp_path)
    assert config.path == str(path) and config.root == root
    assert config.select == ["LKL8", "LKL901"]
    assert config.ignore == ["LKL0"] and config.extend_select == ["LKL902"]
    assert config.exclude == [("gen", root)] and config.extend_exclude == [("tests/data", root)]
    assert config.per_file_ignores == [("tests/*", root, ["LKL8"])]
    assert (config.jobs, config.max_file_bytes, config.skip_generated) == (3, 1000, True)
    assert config.cache_dir == str(tmp_path / "cache")
    assert config.rule_options == {"marker-limit": 9, "extra_markers": ["A"]}


@pytest.mark.parametrize("body, key, problem", [
    ("[tool.leaklint]\nselct = []\n", "selct", "unknown key"),
    ("[tool.leaklint]\nselect = \"LKL1\"\n", "select", "expected a list of strings, got a string"),
    ("[tool.leaklint]\nselect = [\"NOPE1\"]\n", "select", "unknown code or prefix 'NOPE1'"),
    ("[tool.leaklint]\nignore = [\"LKL9999\"]\n", "ignore", "unknown code"),
    ("[tool.leaklint]\nextend-select = [1]\n", "extend-select", "expected a list of strings"),
    ("[tool.leaklint]\nexclude = \"build\"\n", "exclude", "expected a list of strings"),
    ("[tool.leaklint]\njobs = true\n", "jobs", "expected a positive integer"),
    ("[tool.leaklint]\njobs = 0\n", "jobs", "expected a positive integer"),
    ("[tool.leaklint]\nmax-file-bytes = \"1MB\"\n", "max-file-bytes", "expected a positive integer"),
    ("[tool.leaklint]\nskip-generated = \"yes\"\n", "skip-generated", "expected true or false"),
    ("[tool.leaklint]\ncache-dir = 3\n", "cache-dir", "expected a path string"),
    ("[tool.leaklint]\nper-file-ignores = [\"x\"]\n", "per-file-ignores", "expected a table"),
    ("[tool.leaklint.per-file-ignores]\n\"a/*\" = \"LKL8\"\n", "per-file-ignores.'a/*'", "expected a list"),
    ("[tool.leaklint.per-file-ignores]\n\"a/*\" = [\"XX1\"]\n", "per-file-ignores.'a/*'", "unknown code"),
    ("[tool.leaklint]\nmarker-limit = \"3\"\n", "marker-limit", "expected int, got a string"),
    ("[tool.leaklint]\nmarker-limit = true\n", "marker-limit", "expected int, got a boolean"),
    ("[tool.leaklint]\nextra-markers = \"A\"\n", "extra-markers", "expected list"),
])
def test_bad_values_are_one_line_errors_naming_file_and_key(tmp_path, fake_rules, body, key, problem):
    path = write_config(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: [tool.leaklint] {key}: ")
    assert problem in message


def test_malformed_toml_names_the_file(tmp_path):
    path = write_config(tmp_path, "[tool.leaklint]\nselect = [\n")
    with pytest.raises(ConfigError) as caught:
        find_config_file(str(tmp_path))
    assert str(caught.value).startswith(f"{path}: invalid TOML: ")
    assert "\n" not in str(caught.value)


def test_leaklint_must_be_a_table(tmp_path):
    path = write_config(tmp_path, "[tool]\nleaklint = 3\n")
    with pytest.raises(ConfigError, match="must be a table"):
        load_config(str(path))


# -- through the command line ----------------------------------------------------------------------
def test_configuration_errors_exit_2_with_one_line(run_cli, tmp_path):
    write_config(tmp_path, "[tool.leaklint]\njobs = \"many\"\n")
    result = run_cli()
    assert result.code == 2
    assert result.err == (f"leaklint: error: {tmp_path / 'pyproject.toml'}: [tool.leaklint] jobs: "
                          "expected a positive integer, got 'many'\n")


def test_config_option_and_isolated(run_cli, tmp_path, fake_rules):
    write_config(tmp_path, "[tool.leaklint]\nselect = [\"BAD\"]\n")  # found, but not used
    other = write_config(tmp_path / "elsewhere", "[tool.leaklint]\nselect = [\"LKL9\"]\n")
    (tmp_path / "a.py").write_text("MARK1 = 1\nMARK3 = 3\n")
    result = run_cli("--config", str(other), "a.py")
    assert result.code == 1 and "LKL901" in result.out and "LKL801" not in result.out
    result = run_cli("--isolated", "a.py")
    assert result.code == 1 and "LKL901" in result.out and "LKL801" in result.out
    assert run_cli("a.py").code == 2
    result = run_cli("--config", "missing.toml", "a.py")
    assert result.code == 2 and "missing.toml: cannot read" in result.err
