"""Test files: rules that do not apply to tests (the LKL4xx timeouts) are held back there
by default, the others (threads, tasks, queues, processes) are reported; `test-files`,
`extend-test-files` and `test-ignore` in the configuration and as flags; the count of
held-back findings in --statistics; test findings marked in JSON, SARIF and GitHub output."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from leaklint import registry
from leaklint.config import ConfigError, load_config
from leaklint.rules.base import Rule
from leaklint.testcode import DEFAULT_TEST_FILES, TestCodePolicy, default_test_ignore

NO_TIMEOUT = "import requests\n\ndef test_get():\n    requests.get('http://localhost:8000')\n"
THREAD_LEAK = "import threading\n\ndef test_thread():\n    threading.Thread(target=print).start()\n"
TIMEOUT_CODES = ["LKL401", "LKL402", "LKL403", "LKL404", "LKL405", "LKL406"]


def write(folder: Path, files: dict) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def reported(out: str) -> set:
    """{(path, code)} from text output (statistics lines, if any, are not findings)."""
    found = set()
    for line in out.splitlines():
        parts = line.split(":", 3)
        if len(parts) == 4 and parts[1].isdigit():
            found.add((parts[0], parts[3].split()[0]))
    return found


# -- the rules' side ------------------------------------------------------------------------
def test_timeouts_and_waits_do_not_apply_to_tests_and_the_rest_do():
    wait_codes = [f"LKL60{n}" for n in range(1, 8)]
    assert default_test_ignore() == TIMEOUT_CODES + wait_codes
    for rule in registry.all_rules():
        assert rule.applies_to_tests is not rule.code.startswith(("LKL4", "LKL6")), rule.code


def test_a_rule_that_does_not_apply_to_tests_says_why():
    for rule in registry.all_rules():
        assert rule.test_code_reason.strip(), rule.code
        if not rule.applies_to_tests:
            assert rule.test_code_reason != Rule.test_code_reason, rule.code
            assert "test-ignore" in rule.test_code_reason, rule.code


def test_explain_and_rules_doc_give_the_reason(run_cli):
    out = run_cli("--explain", "LKL401").out
    assert "In test files:" in out and "local fixture server" in out
    assert "goleak" in run_cli("--explain", "LKL101").out
    assert "In test files" not in run_cli("--explain", "LKL002").out  # a tool code
    docs = (Path(__file__).resolve().parent.parent / "docs" / "rules.md").read_text()
    assert docs.count("**In test files.**") == len(registry.all_rules())


# -- which files are tests ------------------------------------------------------------------
@pytest.mark.parametrize("path", [
    "tests/test_a.py", "tests/helpers.py", "pkg/tests/sub/deep.py", "test/a.py",
    "testing/fixtures.py", "pkg/test_a.py", "pkg/a_test.py", "conftest.py",
    "pkg/conftest.py", "app/tests.py",
])
def test_default_test_files(tmp_path, path):
    policy = TestCodePolicy([(p, str(tmp_path)) for p in DEFAULT_TEST_FILES], [], str(tmp_path))
    assert policy.is_test_file(str(tmp_path / path))


@pytest.mark.parametrize("path", [
    "app.py", "pkg/contest.py", "pkg/testsuite.py", "pkg/latest.py", "pkg/attest.py",
    "pkg/testing_tools.py", "pkg/test.txt/a.py", "mytests/a.py",
])
def test_not_test_files(tmp_path, path):
    policy = TestCodePolicy([(p, str(tmp_path)) for p in DEFAULT_TEST_FILES], [], str(tmp_path))
    assert not policy.is_test_file(str(tmp_path / path))


def test_folders_above_the_project_root_do_not_make_a_test_file(tmp_path):
    """A project checked out in ~/tests/ is not all tests (as with excludes)."""
    project = tmp_path / "tests" / "project"
    policy = TestCodePolicy([(p, str(project)) for p in DEFAULT_TEST_FILES], [], str(project))
    assert not policy.is_test_file(str(project / "app.py"))
    assert policy.is_test_file(str(project / "tests" / "test_app.py"))


# -- the command ----------------------------------------------------------------------------
def test_a_timeout_in_a_test_file_is_held_back_by_default(run_cli, tmp_path):
    write(tmp_path, {"tests/test_client.py": NO_TIMEOUT, "client.py": NO_TIMEOUT})
    result = run_cli("--no-cache")
    assert reported(result.out) == {("client.py", "LKL401")}
    assert result.code == 1


def test_test_folders_are_known_when_linting_a_project_from_outside(run_cli, tmp_path, monkeypatch):
    """`cd /tmp && leaklint ~/proj` without a configuration file: ~/proj/tests/ is still
    test code (the folder holding the linted paths stands for the project root)."""
    write(tmp_path, {"proj/tests/helpers.py": NO_TIMEOUT, "proj/client.py": NO_TIMEOUT,
                     "proj/build/gen.py": NO_TIMEOUT, "elsewhere/keep": ""})
    monkeypatch.chdir(tmp_path / "elsewhere")
    for proj in (str(tmp_path / "proj"), "../proj"):
        result = run_cli("--no-cache", proj)
        assert [line.split(":")[0] for line in result.out.splitlines()] == [os.path.join(proj, "client.py")]
        assert run_cli("--no-cache", "--isolated", proj).out == result.out


def test_held_back_findings_alone_exit_0(run_cli, tmp_path):
    write(tmp_path, {"tests/test_client.py": NO_TIMEOUT})
    result = run_cli("--no-cache")
    assert (result.code, result.out) == (0, "")


def test_a_thread_leak_in_a_test_file_is_reported(run_cli, tmp_path):
    write(tmp_path, {"tests/test_worker.py": THREAD_LEAK})
    result = run_cli("--no-cache")
    assert reported(result.out) == {("tests/test_worker.py", "LKL101")}
    assert result.code == 1


def test_empty_test_ignore_reports_every_rule_in_tests(run_cli, tmp_path):
    write(tmp_path, {"tests/test_client.py": NO_TIMEOUT})
    assert reported(run_cli("--no-cache", "--test-ignore=").out) == {("tests/test_client.py", "LKL401")}
    write(tmp_path, {"pyproject.toml": "[tool.leaklint]\ntest-ignore = []\n"})
    assert reported(run_cli("--no-cache").out) == {("tests/test_client.py", "LKL401")}


def test_test_ignore_replaces_the_default(run_cli, tmp_path):
    write(tmp_path, {"tests/test_client.py": NO_TIMEOUT, "tests/test_worker.py": THREAD_LEAK,
                     "pyproject.toml": '[tool.leaklint]\ntest-ignore = ["lkl1"]\n'})
    assert reported(run_cli("--no-cache").out) == {("tests/test_client.py", "LKL401")}
    # The flag replaces the configured value.
    assert reported(run_cli("--no-cache", "--test-ignore", "LKL4").out) == {
        ("tests/test_worker.py", "LKL101")}


def test_test_files_replaces_and_extend_test_files_adds(run_cli, tmp_path):
    write(tmp_path, {"tests/test_client.py": NO_TIMEOUT, "qa/check.py": NO_TIMEOUT,
                     "qa/sub/check.py": NO_TIMEOUT})
    everything = {("tests/test_client.py", "LKL401"), ("qa/check.py", "LKL401"),
                  ("qa/sub/check.py", "LKL401")}
    assert reported(run_cli("--no-cache").out) == everything - {("tests/test_client.py", "LKL401")}
    assert reported(run_cli("--no-cache", "--extend-test-files", "qa/*").out) == set()
    assert reported(run_cli("--no-cache", "--test-files", "qa/check.py").out) == everything - {
        ("qa/check.py", "LKL401")}
    # In pyproject.toml; a pattern with "/" is anchored at the project root.
    write(tmp_path, {"pyproject.toml": '[tool.leaklint]\nextend-test-files = ["qa/sub"]\n'})
    assert reported(run_cli("--no-cache").out) == {("qa/check.py", "LKL401")}
    write(tmp_path, {"pyproject.toml": '[tool.leaklint]\ntest-files = ["check.py"]\n'})
    assert reported(run_cli("--no-cache").out) == {("tests/test_client.py", "LKL401")}


def test_a_named_file_and_stdin_are_matched_by_their_path(run_cli, tmp_path):
    write(tmp_path, {"tests/test_client.py": NO_TIMEOUT})
    assert run_cli("--no-cache", "tests/test_client.py").out == ""
    assert run_cli("-", "--stdin-filename", "tests/test_x.py", stdin=NO_TIMEOUT.encode()).out == ""
    out = run_cli("-", "--stdin-filename", "client.py", stdin=NO_TIMEOUT.encode()).out
    assert reported(out) == {("client.py", "LKL401")}


def test_statistics_count_what_was_held_back(run_cli, tmp_path):
    write(tmp_path, {"tests/test_client.py": NO_TIMEOUT + NO_TIMEOUT.replace("test_get", "test_two"),
                     "tests/test_worker.py": THREAD_LEAK})
    lines = run_cli("--no-cache", "--statistics").out.splitlines()
    assert lines[1:] == [
        "1     LKL101 thread-not-joined",
        "1     total (1 code)",
        "held back in test files by test-ignore (--test-ignore= reports them):",
        "2     LKL401 requests-no-timeout",
        "2     total (1 code)",
    ]
    # Nothing reported, something held back: the count is still shown.
    write(tmp_path, {"tests/test_worker.py": "pass\n"})
    result = run_cli("--no-cache", "--statistics", "--format", "json")
    assert json.loads(result.out) == []
    assert result.err.splitlines()[-3:] == [
        "held back in test files by test-ignore (--test-ignore= reports them):",
        "2     LKL401 requests-no-timeout",
        "2     total (1 code)",
    ]


def test_the_cache_serves_any_test_ignore(run_cli, tmp_path):
    """Findings are cached before test-ignore applies, and without the test mark (which
    depends on the path: the same content can be a test file and a shipped one)."""
    write(tmp_path, {"tests/test_client.py": NO_TIMEOUT, "tests/test_worker.py": THREAD_LEAK,
                     "worker.py": THREAD_LEAK})
    assert reported(run_cli().out) == {("worker.py", "LKL101"), ("tests/test_worker.py", "LKL101")}
    result = run_cli("--test-ignore=", "--format", "json", "-v")
    assert "3 files (3 from the cache)" in result.err
    marks = {(f["path"], f["code"], f["test"]) for f in json.loads(result.out)}
    assert marks == {("tests/test_client.py", "LKL401", True), ("tests/test_worker.py", "LKL101", True),
                     ("worker.py", "LKL101", False)}


def test_findings_in_test_files_are_marked_in_json_sarif_and_github(run_cli, tmp_path):
    write(tmp_path, {"tests/test_worker.py": THREAD_LEAK, "worker.py": THREAD_LEAK})
    items = json.loads(run_cli("--no-cache", "--format", "json").out)
    assert [(item["path"], item["test"]) for item in items] == [
        ("tests/test_worker.py", True), ("worker.py", False)]
    results = json.loads(run_cli("--no-cache", "--format", "sarif").out)["runs"][0]["results"]
    assert [r["level"] for r in results] == ["note", "warning"]
    # Besides the fix every finding carries (`properties.fix`).
    assert results[0]["properties"] == {"tags": ["test"], "leaklint/testCode": True,
                                        "fix": results[1]["properties"]["fix"]}
    assert set(results[1]["properties"]) == {"fix"}
    lines = run_cli("--no-cache", "--format", "github").out.splitlines()
    assert lines[0].startswith("::notice file=tests/test_worker.py,")
    assert lines[1].startswith("::warning file=worker.py,")


# -- configuration --------------------------------------------------------------------------
def test_configuration_keys_are_read(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.leaklint]\ntest-files = ["t"]\nextend_test_files = ["qa/*"]\n'
                    'test-ignore = ["lkl4", "LKL101"]\n')
    config = load_config(str(path))
    assert config.test_files == [("t", str(tmp_path))]
    assert config.extend_test_files == [("qa/*", str(tmp_path))]
    assert config.test_ignore == ["LKL4", "LKL101"]
    defaults = load_config(None)
    assert (defaults.test_files, defaults.extend_test_files, defaults.test_ignore) == (None, [], None)


@pytest.mark.parametrize("body, key, problem", [
    ('test-ignore = ["LKL999"]', "test-ignore", "unknown code or prefix 'LKL999'"),
    ('test-ignore = "LKL4"', "test-ignore", "expected a list of strings, got a string"),
    ("test-files = [1]", "test-files", "expected a list of strings"),
    ('extend-test-files = "tests"', "extend-test-files", "expected a list of strings"),
])
def test_bad_values_are_errors(tmp_path, body, key, problem):
    path = tmp_path / "pyproject.toml"
    path.write_text(f"[tool.leaklint]\n{body}\n")
    with pytest.raises(ConfigError) as error:
        load_config(str(path))
    assert f"[tool.leaklint] {key}: {problem}" in str(error.value)


def test_bad_flag_is_a_usage_error(run_cli, tmp_path):
    write(tmp_path, {"a.py": "pass\n"})
    result = run_cli("--test-ignore", "LKL999")
    assert result.code == 2 and "--test-ignore: unknown code or prefix 'LKL999'" in result.err


def test_help_documents_the_flags(run_cli):
    out = run_cli("--help").out
    for text in ("--test-files", "--extend-test-files", "--test-ignore", "LKL401,LKL402"):
        assert text in "".join(out.split())  # argparse may wrap the list anywhere
