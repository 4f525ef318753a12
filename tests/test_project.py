"""One project, not one file: module summaries, module names, requirements resolved
against the other modules, and their cache (leaklint/project.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

from leaklint import project, runner
from leaklint.index import FileIndex
from leaklint.project import Project, absolute_name, is_inert_base, module_of, summarise
from leaklint.registry import all_rules
from leaklint.runner import LintSettings, ResultCache, Runner

FIXTURES = Path(__file__).parent / "fixtures"
SETTINGS = LintSettings(codes=tuple(r.code for r in all_rules() if r.default_enabled))

BASE = "class Service:\n    def start(self):\n        self._spawn()\n"
BASE_THAT_WAITS = BASE + "\n    def stop(self):\n        self._proc.wait()\n"
WORKER = ("import subprocess\n\nfrom .base import Service\n\n\nclass Worker(Service):\n"
          "    def _spawn(self):\n        self._proc = subprocess.Popen(['sleep', '9'])\n")


def write(folder: Path, files: dict) -> list:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return sorted(str(folder / name) for name in files if name.endswith(".py"))


def found(findings) -> set:
    return {(os.path.basename(f.path), f.line, f.code) for f in findings}


def summary_of(source: str) -> dict:
    return summarise(FileIndex(cst.parse_module(source)))


# -- summaries ----------------------------------------------------------------------------------
def test_summary_lists_classes_their_attributes_and_what_they_release():
    summary = summary_of(
        "import threading\nfrom . import rpc\nfrom .base import Base as B\n\n"
        "jobs = threading.Thread(target=print)\n\n"
        "class Pump(B):\n    def start(self):\n        self._t = threading.Thread(target=self.run)\n"
        "        self._seen = 0\n    def stop(self):\n        self._t.join()\n"
        "        rpc.request_queue.put(None)\n\n"
        "class Probe:\n    def get(self, name):\n        return getattr(self, name)\n")
    assert json.loads(json.dumps(summary)) == summary  # plain data
    pump = summary["classes"]["Pump"]
    assert pump == {"bases": [["import", ".base.Base"]], "touched": ["_seen", "_t", "run"],
                    "released": ["_t"]}
    assert summary["classes"]["Probe"]["touched"] == "*"  # getattr(self, name): any
    assert ".rpc.request_queue.put" in summary["uses"]
    assert summary["aliases"] == {"threading": "threading", "rpc": ".rpc", "B": ".base.Base"}
    assert summary["resources"] == {"jobs": "threading.Thread"}
    assert {"threading", ".base"} <= set(summary["imports"])


def test_summary_of_star_imports():
    assert summary_of("try:\n    from .rpc import *\nexcept ImportError:\n    pass\n")["star"] == [".rpc"]


def test_the_engine_summarises_from_its_own_parse(monkeypatch):
    from leaklint.engine import Linter

    parses = []
    real = cst.parse_module
    monkeypatch.setattr(cst, "parse_module", lambda text: parses.append(1) or real(text))
    linter = Linter([rule() for rule in all_rules()], resolve_requirements=False)
    linter.lint_text("import queue\nq = queue.Queue()\n", "m.py")
    assert parses == [1] and linter.last_summary["resources"] == {"q": "queue.Queue"}


# -- module names -----------------------------------------------------------------------------------
def test_module_names_from_packages_and_src_layouts(tmp_path):
    write(tmp_path, {"src/app/__init__.py": "", "src/app/sub/__init__.py": "",
                     "src/app/sub/m.py": "", "script.py": ""})
    assert module_of(str(tmp_path / "src/app/sub/m.py")) == ("app.sub.m", False, str(tmp_path / "src"))
    assert module_of(str(tmp_path / "src/app/sub/__init__.py")) == ("app.sub", True, str(tmp_path / "src"))
    assert module_of(str(tmp_path / "script.py")) == ("script", False, str(tmp_path))


@pytest.mark.parametrize("name, module, is_package, expected", [
    ("a.b", "x.y", False, "a.b"),
    (".base.C", "pkg.mod", False, "pkg.base.C"),
    (".base.C", "pkg", True, "pkg.base.C"),
    ("..util.f", "pkg.sub.mod", False, "pkg.util.f"),
    (".rpc", "pkg.run", False, "pkg.rpc"),
    ("...x", "pkg.mod", False, None),  # above the top package
])
def test_relative_names(name, module, is_package, expected):
    assert absolute_name(name, module, is_package) == expected


def test_one_table_of_inert_bases():
    for name in ("builtins.object", "builtins.Exception", "threading.Thread", "abc.ABC",
                 "socketserver.BaseServer", "unittest.TestCase", "django.test.TestCase"):
        assert is_inert_base(name), name
    for name in ("paramiko.util.ClosingContextManager", "asyncio.Protocol", None):
        assert not is_inert_base(name), name


# -- resolution ------------------------------------------------------------------------------------
def run(paths, cache=None, jobs=1):
    return Runner(SETTINGS, jobs=jobs, cache=cache).run(paths)


def test_a_base_that_touches_the_attribute_keeps_it(tmp_path):
    paths = write(tmp_path, {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/worker.py": WORKER})
    assert found(run(paths).findings) == {("worker.py", 8, "LKL504")}
    (tmp_path / "pkg/base.py").write_text(BASE_THAT_WAITS)
    assert found(run(paths).findings) == set()


def test_a_base_outside_the_project_is_unknown(tmp_path):
    paths = write(tmp_path, {"pkg/__init__.py": "", "pkg/worker.py": WORKER})  # no base.py
    assert found(run(paths).findings) == set()


def test_a_cycle_of_bases_is_unknown(tmp_path):
    paths = write(tmp_path, {
        "pkg/__init__.py": "", "pkg/base.py": "from .worker import Worker\n\nclass Service(Worker):\n    pass\n",
        "pkg/worker.py": WORKER})
    assert found(run(paths).findings) == set()


def test_a_global_used_through_a_star_import_is_used(tmp_path):
    paths = write(tmp_path, {
        "pkg/__init__.py": "", "pkg/rpc.py": "import queue\n\nq = queue.Queue()\n\ndef f(x):\n    q.put(x)\n",
        "pkg/run.py": "from pkg.rpc import *\n\ndef g():\n    return q.get()\n"})
    assert found(run(paths).findings) == set()
    (tmp_path / "pkg/run.py").write_text("def g():\n    return 1\n")
    assert found(run(paths).findings) == {("rpc.py", 6, "LKL301")}


def test_unknown_requirements_fail_to_the_one_file_answer():
    assert not Project().holds(("something-new", "x"), "m.py")


# -- cache and incremental runs ---------------------------------------------------------------------
@pytest.fixture
def count_lints(monkeypatch):
    calls = []
    real = runner.lint_file

    def counting(linter, path, skip_generated):
        calls.append(os.path.basename(path))
        return real(linter, path, skip_generated)

    monkeypatch.setattr(runner, "lint_file", counting)
    return calls


def test_a_warm_run_relints_only_changed_files_and_re_resolves(tmp_path, count_lints, monkeypatch):
    paths = write(tmp_path / "src", {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/worker.py": WORKER})
    cache_dir = str(tmp_path / "cache")
    summarised = []
    real = project.summarise_source
    monkeypatch.setattr(project, "summarise_source", lambda data: summarised.append(1) or real(data))

    def warm():
        return run(paths, ResultCache(cache_dir, SETTINGS.cache_key()))

    assert found(warm().findings) == {("worker.py", 8, "LKL504")}
    # base.py has no trigger word: no rule parsed it, its summary was made when needed.
    assert summarised == [1]
    # Only the summaries requirements needed are written: base.py's, not worker.py's.
    [cache_file] = (tmp_path / "cache").rglob("*.json")
    base_digest = project.content_digest((tmp_path / "src/pkg/base.py").read_bytes())
    assert list(json.loads(cache_file.read_text())["summaries"]) == [base_digest]
    count_lints.clear()
    outcome = warm()
    assert found(outcome.findings) == {("worker.py", 8, "LKL504")}
    assert count_lints == [] and outcome.from_cache == 3 and summarised == [1]
    # The base changes: only base.py is linted again; worker.py's cached finding is
    # re-resolved against base.py's new summary.
    (tmp_path / "src/pkg/base.py").write_text(BASE_THAT_WAITS)
    outcome = warm()
    assert found(outcome.findings) == set() and count_lints == ["base.py"]


def test_cached_findings_keep_their_requirements(tmp_path):
    paths = write(tmp_path, {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/worker.py": WORKER})
    cache = ResultCache(str(tmp_path / "cache"), SETTINGS.cache_key())
    run(paths, cache)
    again = ResultCache(str(tmp_path / "cache"), SETTINGS.cache_key())
    [finding] = again.lookup(paths[-1], SETTINGS.max_file_bytes)
    assert finding.requires == (("base", ".base.Service", "_proc"),)


def test_output_is_the_same_whatever_the_jobs(monkeypatch):
    monkeypatch.setattr(runner, "MIN_FILES_FOR_WORKERS", 1)
    paths = sorted(str(p) for p in FIXTURES.glob("project_*/**/*.py"))
    one = run(paths, jobs=1).findings
    assert one and run(paths, jobs=2).findings == one


def test_standard_input_uses_the_project_on_disk():
    folder = FIXTURES / "project_bases" / "pkg"
    runner_ = Runner(SETTINGS)
    workers = (folder / "workers.py").read_bytes()
    assert found(runner_.lint_stdin(workers, str(folder / "workers.py"))) == {
        ("workers.py", 12, "LKL504"), ("workers.py", 20, "LKL301")}
    # The same text standing for a file outside the project: its bases are unknown.
    assert found(runner_.lint_stdin(workers, "elsewhere/workers.py")) == set()


@pytest.mark.parametrize("name", ["project_bases", "project_globals", "project_globals_fixed",
                                  "project_factories"])
def test_flake8_gives_the_command_s_findings(name):
    folder = FIXTURES / name
    cli = subprocess.run([sys.executable, "-m", "leaklint", "--no-cache", "--format", "json", "."],
                         cwd=folder, capture_output=True, text=True, timeout=300)
    expected = {(os.path.normpath(f["path"]), f["line"], f["code"]) for f in json.loads(cli.stdout)}
    flake8 = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "LKL",
                             "--format", "%(path)s:%(row)d:%(code)s", "."],
                            cwd=folder, capture_output=True, text=True, timeout=300)
    got = set()
    for line in flake8.stdout.splitlines():
        path, row, code = line.rsplit(":", 2)
        got.add((os.path.normpath(path), int(row), code))
    assert got == expected and (bool(expected) == (name != "project_globals_fixed"))


def test_a_damaged_summary_in_the_cache_is_the_one_file_answer(tmp_path):
    paths = write(tmp_path, {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/worker.py": WORKER})
    base_digest = project.content_digest((tmp_path / "pkg/base.py").read_bytes())
    damaged = {base_digest: {"format": project.SUMMARY_FORMAT, "classes": {"Service": {"bases": 7}},
                             "aliases": {}, "uses": [], "star": [], "functions": {}}}
    assert found(Project(damaged).resolve(Runner(SETTINGS).run(paths).findings)) == set()
    [finding] = Runner(SETTINGS).run(paths).findings
    assert not Project(damaged).keep(finding) and Project().keep(finding)


RPC = "import queue\n\nq = queue.Queue()\n\ndef f(x):\n    q.put(x)\n"
READER = "import rpc\n\ndef g():\n    return rpc.q.get()\n"


def test_the_modules_that_may_use_a_global_are_the_source_root_s_and_its_packages(tmp_path):
    # A folder that is not a package is not importable from the source root: a script
    # there is not looked at (nor is the rest of a home directory holding a script).
    paths = write(tmp_path, {"rpc.py": RPC, "notes/reader.py": READER})
    assert found(run(paths).findings) == {("rpc.py", 6, "LKL301")}
    paths = write(tmp_path, {"tools/__init__.py": "", "tools/reader.py": READER})
    assert found(run(paths).findings) == set()


def test_an_unused_elsewhere_answer_is_kept_while_the_project_s_files_are_unchanged(tmp_path, monkeypatch):
    """The answer is kept in the cache with the stat data of the files it read: a warm run
    reads none of them, and a user of the global appearing, changing or disappearing (or
    any other file changing) is seen."""
    monkeypatch.setattr(runner, "RACY_SECONDS", 0)  # the files count as settled at once
    src = tmp_path / "src"
    paths = write(src, {"rpc.py": RPC, "other.py": "x = 1\n"})
    cache_dir = str(tmp_path / "cache")
    opened = []
    real_open = open

    def counting_open(file, *args, **kwargs):
        if str(file).endswith("other.py") or str(file).endswith("reader.py"):
            opened.append(os.path.basename(str(file)))
        return real_open(file, *args, **kwargs)

    def warm(paths):
        opened.clear()
        cache = ResultCache(cache_dir, SETTINGS.cache_key())
        monkeypatch.setattr("builtins.open", counting_open)
        try:
            return found(run(paths, cache).findings)
        finally:
            monkeypatch.setattr("builtins.open", real_open)

    assert warm(paths) == {("rpc.py", 6, "LKL301")} and "other.py" in opened
    assert warm(paths) == {("rpc.py", 6, "LKL301")} and opened == []  # the answer was kept
    # A user appears (not linted: only the project on disk knows it).
    (src / "reader.py").write_text(READER)
    assert warm(paths) == set()
    assert warm(paths) == set() and opened == []
    # It changes so that it no longer uses the global (same size: the times tell).
    (src / "reader.py").write_text(READER.replace("rpc.q", "rpc_q"))
    assert warm(paths) == {("rpc.py", 6, "LKL301")}
    (src / "reader.py").write_text(READER)
    assert warm(paths) == set()
    # It disappears.
    (src / "reader.py").unlink()
    assert warm(paths) == {("rpc.py", 6, "LKL301")}


def test_a_kept_answer_keeps_the_summaries_it_read_in_the_cache(tmp_path, monkeypatch):
    """A warm run that answers from the kept answer reads no summary; the cache must still
    keep the ones the answer was worked out from, or the next edit of a file of the source
    root would parse every user of the global again."""
    monkeypatch.setattr(runner, "RACY_SECONDS", 0)
    paths = write(tmp_path / "src", {"rpc.py": RPC, "other.py": "x = 1\n"})
    (tmp_path / "src" / "reader.py").write_text(READER)  # a user, not linted (no trigger word)
    reader_digest = project.content_digest(READER.encode())
    cache_dir = str(tmp_path / "cache")

    def summaries_kept():
        [cache_file] = (tmp_path / "cache").rglob("*.json")
        return json.loads(cache_file.read_text())["summaries"]

    assert found(run(paths, ResultCache(cache_dir, SETTINGS.cache_key())).findings) == set()
    assert reader_digest in summaries_kept()
    # rpc.py changes (it is not part of its own answer's proof): the cache is written again,
    # the answer comes from the cache.
    Path(paths[1]).write_text(RPC + "# edited\n")
    assert found(run(paths, ResultCache(cache_dir, SETTINGS.cache_key())).findings) == set()
    assert reader_digest in summaries_kept()


def test_a_kept_answer_is_not_trusted_when_its_proof_differs_or_it_is_damaged(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "RACY_SECONDS", 0)
    paths = write(tmp_path, {"rpc.py": RPC, "reader.py": READER})
    rpc = paths[1]
    module, _, root = module_of(rpc)
    proof = project.stat_proof([str(tmp_path / "reader.py")])
    key = project.answer_key(rpc, module, "q")
    [finding] = runner.lint_file(SETTINGS.build_linter(), rpc, False).findings  # unresolved
    assert finding.requires == (("unused-elsewhere", "q"),)
    assert not Project(answers={}).keep(finding)  # reader.py uses rpc.q
    # A kept answer with the files' current proof is believed (even a wrong one) ...
    assert Project(answers={key: [False, proof, []]}).keep(finding)
    # ... but not with another proof, nor a damaged one.
    for damaged in ([False, "0" * 32, []], [False], ["no", proof, []], [False, proof],
                    [False, proof, [1]], [False, proof, "d"], "x", None):
        assert not Project(answers={key: damaged}).keep(finding), damaged
    # Files changed too recently for their times to vouch for them: no proof at all.
    monkeypatch.setattr(runner, "RACY_SECONDS", 3600)
    assert project.stat_proof([str(tmp_path / "reader.py")]) is None


# -- factories of other modules -----------------------------------------------------------------
def test_summary_lists_the_module_s_factories():
    summary = summary_of(
        "import threading\n\nG = threading.Thread(target=print)\n\n"
        "def start():\n    t = threading.Thread(target=print)\n    t.start()\n    return t\n\n"
        "def shared():\n    return G\n\n"
        "class C:\n    def make(self):\n        return threading.Thread(target=print)\n")
    assert summary["functions"] == {"start": {
        "cls": "threading.Thread", "local_class": False, "bases": (), "calls": ("start",),
        "stores": (), "daemon": False}}


def test_calls_of_imported_functions_are_candidates_until_resolved():
    from leaklint.engine import Linter

    folder = FIXTURES / "project_factories" / "pkg"
    client = str(folder / "client.py")
    text = (folder / "client.py").read_text()
    unresolved = Linter([rule() for rule in all_rules()], resolve_requirements=False).lint_text(text, client)
    # The daemon and the shared thread are candidates too: their modules' summaries drop them.
    assert {(f.line, f.code) for f in unresolved} == {(9, "LKL101"), (17, "LKL101"), (25, "LKL101")}
    assert {f.requires for f in unresolved} == {
        (("returns", ".util.start_heartbeat", "threading.Thread", "started"),),
        (("returns", ".util.start_daemon_heartbeat", "threading.Thread", "started"),),
        (("returns", ".util.shared_heartbeat", "threading.Thread", "started"),)}
    [kept] = Linter([rule() for rule in all_rules()]).lint_text(text, client)
    assert kept.line == 9 and "returned by `start_heartbeat()`" in kept.message


def test_a_factory_re_exported_by_the_package_counts(tmp_path):
    util = ("import threading\n\ndef start_heartbeat():\n    t = threading.Thread(target=print)\n"
            "    t.start()\n    return t\n")
    client = ("import pkg\n\nclass Client:\n    def __init__(self):\n"
              "        self._beat = pkg.start_heartbeat()  # Thread\n")
    paths = write(tmp_path, {"pkg/__init__.py": "from .util import start_heartbeat\n",
                             "pkg/util.py": util, "pkg/client.py": client})
    assert found(Runner(SETTINGS).run(paths).findings) == {("client.py", 5, "LKL101")}
    # Linting the caller alone still reads the factory's module on disk.
    assert found(Runner(SETTINGS).run([paths[1]]).findings) == {("client.py", 5, "LKL101")}
    # Outside the project: nothing to read, the one-file answer.
    (tmp_path / "other").mkdir()
    alone = tmp_path / "other" / "alone.py"
    alone.write_text(client)
    assert found(Runner(SETTINGS).run([str(alone)]).findings) == set()


def test_standard_input_finds_the_factory_on_disk():
    folder = FIXTURES / "project_factories" / "pkg"
    client = (folder / "client.py").read_bytes()
    assert found(Runner(SETTINGS).lint_stdin(client, str(folder / "client.py"))) == {
        ("client.py", 9, "LKL101")}
    assert found(Runner(SETTINGS).lint_stdin(client, "elsewhere/client.py")) == set()


def test_only_values_kept_on_self_are_candidates_and_modules_without_threads_are_not_read(tmp_path):
    util = ("import threading\n\ndef start_heartbeat():\n    t = threading.Thread(target=print)\n"
            "    t.start()\n    return t\n")
    client = ("from .util import start_heartbeat\nfrom .plain import make\n\n"
              "def f():\n    t = start_heartbeat()  # Thread: a local, not followed\n\n"
              "class C:\n    def __init__(self):\n        self._made = make()\n")
    paths = write(tmp_path, {"pkg/__init__.py": "", "pkg/util.py": util, "pkg/client.py": client,
                             "pkg/plain.py": "def make():\n    return object()\n"})
    from leaklint.engine import Linter

    unresolved = Linter([rule() for rule in all_rules()], resolve_requirements=False).lint_text(
        client, paths[1])
    assert {(f.line, f.code) for f in unresolved} == {(9, "LKL101")}
    project_ = Project()
    assert project_.resolve(unresolved) == []
    plain = project.content_digest((tmp_path / "pkg/plain.py").read_bytes())
    assert plain not in project_.summaries  # never parsed: it cannot define a thread factory
