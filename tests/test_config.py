"""[tool.leaklint]: finding the file, reading every key, one-line errors naming file and key."""
from __future__ import annotations

from pathlib import Path

import pytest

from leaklint.config import ConfigError, config_search_start, find_config_file, load_config
from leaklint.engine import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_FILE_TOKENS


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
    assert config.max_file_tokens == DEFAULT_MAX_FILE_TOKENS


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
max_file_tokens = 500
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
    assert (config.jobs, config.max_file_bytes, config.max_file_tokens, config.skip_generated) == (3, 1000, 500, True)
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
    ("[tool.leaklint]\nmax-file-tokens = 0\n", "max-file-tokens", "expected a positive integer"),
    ("[tool.leaklint]\nmax-file-tokens = 1.5\n", "max-file-tokens", "expected a positive integer"),
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


# -- leaklint.toml, and where the search starts -------------------------------------------------
def test_leaklint_toml_beats_pyproject_in_the_same_folder_and_the_nearest_folder_wins(tmp_path):
    write_config(tmp_path, "[tool.leaklint]\n")
    (tmp_path / "leaklint.toml").write_text("")  # empty, still the configuration (as ruff.toml)
    assert find_config_file(str(tmp_path)) == str(tmp_path / "leaklint.toml")
    (tmp_path / ".leaklint.toml").write_text("")
    assert find_config_file(str(tmp_path)) == str(tmp_path / ".leaklint.toml")
    inner = write_config(tmp_path / "a", "[tool.leaklint]\n")
    assert find_config_file(str(tmp_path / "a")) == str(inner)


def test_leaklint_toml_holds_top_level_keys(tmp_path, fake_rules):
    path = tmp_path / "leaklint.toml"
    path.write_text('select = ["LKL9"]\nextend-ignore = ["LKL902"]\nmarker-limit = 4\n'
                    '[per-file-ignores]\n"tests/*" = ["LKL8"]\n')
    config = load_config(str(path))
    assert config.root == str(tmp_path) and config.select == ["LKL9"]
    assert config.extend_ignore == ["LKL902"] and config.rule_options == {"marker-limit": 4}
    assert config.per_file_ignores == [("tests/*", str(tmp_path), ["LKL8"])]
    path.write_text("jobs = 0\n")
    with pytest.raises(ConfigError) as caught:  # no "[tool.leaklint]" in the message
        load_config(str(path))
    assert str(caught.value).startswith(f"{path}: jobs: expected a positive integer")


def test_search_starts_in_the_folder_holding_every_linted_path(tmp_path, monkeypatch):
    for folder in ("proj/src/pkg", "proj/tests", "other"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "proj/src/pkg/m.py").write_text("")
    monkeypatch.chdir(tmp_path / "other")
    proj = str(tmp_path / "proj")
    assert config_search_start([proj]) == proj
    assert config_search_start([f"{proj}/src/pkg/m.py"]) == f"{proj}/src/pkg"
    assert config_search_start([f"{proj}/src/pkg/m.py", f"{proj}/tests"]) == proj
    assert config_search_start(["../proj/src", "../proj/tests"]) == proj
    assert config_search_start([]) == str(tmp_path / "other")
    assert config_search_start(["-"]) == str(tmp_path / "other")
    assert config_search_start(["-"], stdin_filename="../proj/src/new.py") == f"{proj}/src"
    # Paths in two projects: their common folder (here tmp_path, above both projects).
    assert config_search_start([proj, str(tmp_path / "other")]) == str(tmp_path)


# -- files that are not what they seem ----------------------------------------------------------
def test_pyproject_named_by_config_needs_a_leaklint_table(tmp_path):
    path = write_config(tmp_path / "ci", "[project]\nname = 'x'\n")
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    assert str(caught.value).startswith(f"{path}: no [tool.leaklint] table")
    path.write_text('select = ["LKL1"]\n[tool.black]\nline-length = 100\n')
    with pytest.raises(ConfigError, match=r"no \[tool.leaklint\] table \(top-level select must be in it\)"):
        load_config(str(path))


def test_other_toml_files_hold_top_level_keys_or_only_a_leaklint_table(tmp_path):
    path = tmp_path / "ci.toml"
    path.write_text('[tool.leaklint]\nselect = ["LKL1"]\n')  # a copy of a pyproject section
    assert load_config(str(path)).select == ["LKL1"]
    path.write_text('select = ["LKL1"]\n')
    assert load_config(str(path)).select == ["LKL1"]
    path.write_text('select = ["LKL1"]\n[tool.leaklint]\nignore = ["LKL101"]\n')  # which one?
    with pytest.raises(ConfigError, match="ci.toml: tool: unknown key .*top-level keys"):
        load_config(str(path))
    path.write_text('[tool.black]\nline-length = 100\n')  # not a leaklint configuration
    with pytest.raises(ConfigError, match="ci.toml: tool: unknown key"):
        load_config(str(path))


@pytest.mark.parametrize("body", ["select = []", 'select = [""]', 'select = [" ", ""]'])
def test_an_empty_select_is_an_error(tmp_path, body):
    path = write_config(tmp_path, f"[tool.leaklint]\n{body}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    assert str(caught.value) == (f"{path}: [tool.leaklint] select: select is empty, which would turn "
                                 f"every rule off; leave it out for the default rules, or list the "
                                 f"ones you want")


@pytest.mark.parametrize("name", ["not a name!", "", "mycompany..fetch", ".fetch", "http.fetch.",
                                  "pkg.class.fetch", "3rdparty.fetch", " fetch"])
def test_timeout_functions_must_be_dotted_python_names(tmp_path, name):
    path = write_config(tmp_path, f"[tool.leaklint]\ntimeout-functions = [\"ok.fetch\", {name!r}]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    assert str(caught.value) == (f"{path}: [tool.leaklint] timeout-functions: {name!r} is not a "
                                 f"dotted Python name (like mycompany.http.fetch)")


def test_valid_timeout_functions(tmp_path):
    path = write_config(tmp_path, '[tool.leaklint]\ntimeout-functions = ["fetch", "my_co.http2.get_json"]\n')
    assert load_config(str(path)).rule_options == {"timeout-functions": ["fetch", "my_co.http2.get_json"]}


def test_every_list_option_of_names_is_checked():
    """Options whose items are Python names say so: a value that is not one is an error."""
    from leaklint.registry import all_rules
    from leaklint.option_checks import dotted_names

    name_options = [option.name for rule in all_rules() for option in rule.options
                    if "name" in option.help.lower() and option.type is list]
    assert name_options  # timeout-functions
    for rule in all_rules():
        for option in rule.options:
            if option.name in name_options:
                assert option.check is dotted_names, option.name


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
