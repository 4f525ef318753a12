"""The text prefilter may only skip files that cannot produce a finding: linting with it
must give exactly what linting without it gives (the parser's view), for every fixture,
every rule example, and the same examples with their imports spelled differently."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from leaklint.engine import Linter
from leaklint.registry import all_rules

FIXTURES = Path(__file__).parent / "fixtures"
RULES = all_rules()
# A wrapper named in timeout-functions brings its own trigger word.
OPTIONS = {"timeout-functions": ["mycompany.http.fetch"]}


def _rule_instances():
    return [rule(OPTIONS) for rule in RULES]


# -- other spellings of the same imports ------------------------------------------------------
_IMPORT = re.compile(r"^import (?P<name>[\w.]+)$")
_FROM = re.compile(r"^from (?P<module>[\w.]+) import (?P<names>[\w, ]+)$")


def import_variants(source: str):
    """(label, source) for each rewriting of one import line of `source` into another
    spelling that binds exactly the same names."""
    lines = source.split("\n")
    for number, line in enumerate(lines):
        spellings = []
        match = _IMPORT.match(line)
        if match:
            name = match["name"]
            spellings = [f"import os, {name}", f"import os,{name}", f"import\t{name}",
                         f"import  {name}", f"import os, \\\n    {name}", f"import {name}, os",
                         f"import {name}  # comment"]
            if "." not in name:
                spellings.append(f"import {name} as {name}")
            else:  # `import a.b` binds `a`
                top = name.split(".")[0]
                spellings.append(f"import {top}, {name} as _unused")
        match = _FROM.match(line)
        if match:
            module, names = match["module"], match["names"]
            one_per_line = "".join(f"    {n.strip()},\n" for n in names.split(","))
            spellings = [f"from  {module} import {names}", f"from {module}  import {names}",
                         f"from\t{module} import {names}", f"from {module} import ({names})",
                         f"from {module} import (\n{one_per_line})",
                         f"from {module} import \\\n    {names}",
                         f"from {module} import os, {names}"]
            if names.isidentifier():
                spellings.append(f"from {module} import {names} as {names}")
        for number_of_spelling, spelling in enumerate(spellings):
            variant = "\n".join(lines[:number] + [spelling] + lines[number + 1:])
            yield f"line{number + 1}-{number_of_spelling}", variant


# Spellings the examples do not have: aliases, dotted imports with `as`, relative imports,
# __import__ and friends (the index resolves some of these, not all: either way the
# prefilter must agree with the parser).
EXTRA_CASES = {
    "requests-comma": "import os, requests\n\ndef f(u):\n    return requests.get(u)\n",
    "requests-comma-no-space": "import os,requests\n\ndef f(u):\n    return requests.get(u)\n",
    "requests-tab": "import\trequests\n\ndef f(u):\n    return requests.get(u)\n",
    "requests-two-spaces": "from  requests import get\n\ndef f(u):\n    return get(u)\n",
    "requests-continued": "import os, \\\n    requests\n\ndef f(u):\n    return requests.get(u)\n",
    "requests-parenthesised": "from requests import (\n    get,\n    post)\n\ndef f(u):\n    return get(u)\n",
    "requests-dotted-as": "import requests.api as ra\n\ndef f(u):\n    return ra.get(u)\n",
    "requests-api-module": "from requests import api\n\ndef f(u):\n    return api.post(u)\n",
    "requests-alias": "import requests as http\n\ndef f(u):\n    return http.get(u)\n",
    "requests-semicolon": "import os; import requests\n\ndef f(u):\n    return requests.get(u)\n",
    "requests-in-function": "def f(u):\n    import requests\n    return requests.get(u)\n",
    "requests-dunder-import": "requests = __import__('requests')\n\ndef f(u):\n    return requests.get(u)\n",
    "requests-importlib": "import importlib\nrequests = importlib.import_module('requests')\n"
                          "\ndef f(u):\n    return requests.get(u)\n",
    "requests-relative": "from . import requests\n\ndef f(u):\n    return requests.get(u)\n",
    "requests-relative-module": "from .requests import get\n\ndef f(u):\n    return get(u)\n",
    "requests-star": "from requests import *\n\ndef f(u):\n    return get(u)\n",
    "requests-assigned-alias": "import requests\nfetch = requests.get\n\ndef f(u):\n    return fetch(u)\n",
    "wrapper": "from mycompany.http import fetch\n\ndef f(u):\n    return fetch(u)\n",
    "wrapper-alias": "from mycompany.http import fetch as get\n\ndef f(u):\n    return get(u)\n",
    "wrapper-module": "import mycompany.http as h\n\ndef f(u):\n    return h.fetch(u)\n",
    "thread-alias": "from threading import Thread as T\n\ndef f():\n    T(target=print).start()\n",
    "thread-module-alias": "import threading as th\n\ndef f():\n    th.Thread(target=print).start()\n",
    "smtp-alias": "from smtplib import SMTP_SSL as S\n\ndef f(h):\n    return S(h)\n",
    "executor-parenthesised": "from concurrent.futures import (\n    ThreadPoolExecutor,\n)\n\n"
                              "def f():\n    ex = ThreadPoolExecutor()\n    ex.submit(print)\n",
    "process-context": "import multiprocessing as mp\n\ndef f():\n    ctx = mp.get_context('spawn')\n"
                       "    ctx.Process(target=print).start()\n",
    "queue-simple": "import queue\n\ndef f():\n    q = queue.SimpleQueue()\n    q.put(1)\n",
    # Issue 13's roads: modules reached through importlib, six.moves, a try/except import
    # or a version guard, classes kept in a variable or a `self` attribute.
    "importlib-threading": "import importlib\nth = importlib.import_module('threading')\n\n"
                           "def f(w):\n    th.Thread(target=w).start()\n",
    "importlib-asyncio": "import importlib\naio = importlib.import_module('asyncio')\n\n"
                         "async def f(c):\n    aio.ensure_future(c.run())\n",
    "importlib-inline": "import importlib\n\ndef f(u):\n"
                        "    return importlib.import_module('urllib.request').urlopen(u)\n",
    "six-moves-queue": "from six.moves import queue as q\n\ndef f(xs):\n"
                       "    box = q.LifoQueue(2)\n    for x in xs:\n        box.put(x)\n",
    "six-moves-http": "from six.moves import http_client as h\n\ndef f(host):\n"
                      "    return h.HTTPSConnection(host)\n",
    "try-import-urllib2": "try:\n    import urllib.request as u2\nexcept ImportError:\n"
                          "    import urllib2 as u2\n\ndef f(u):\n    return u2.build_opener().open(u)\n",
    "version-guard-queue": "import sys\nif sys.version_info[0] == 2:\n    import Queue as Q\n"
                           "else:\n    import queue as Q\n\ndef f(xs):\n    box = Q.Queue(2)\n"
                           "    for x in xs:\n        box.put(x)\n",
    "self-attribute-class": "from http.client import HTTPSConnection as H\n\nclass C:\n"
                            "    def __init__(self):\n        self.cls = H\n"
                            "    def go(self, host):\n        return self.cls(host)\n",
    "protocol-loop": "import asyncio\n\nclass P(asyncio.Protocol):\n"
                     "    def __init__(self, loop):\n        self._loop = loop\n"
                     "    def data_received(self, d):\n        self._loop.create_task(d.handle())\n",
}


def _sources():
    for path in sorted(FIXTURES.glob("*.py")):
        yield pytest.param(path.read_text(encoding="utf-8"), id=f"fixture-{path.name}")
    for rule in RULES:
        examples = [("example", rule.example), ("use_instead", rule.use_instead)]
        examples += [(f"invalid{n}", source) for n, source in enumerate(rule.invalid)]
        examples += [(f"valid{n}", source) for n, source in enumerate(rule.valid)]
        for label, source in examples:
            yield pytest.param(source, id=f"{rule.code}-{label}")
    for label, source in EXTRA_CASES.items():
        yield pytest.param(source, id=label)


def _import_variant_cases():
    for rule in RULES:
        for number, source in enumerate(rule.invalid + (rule.example,)):
            for label, variant in import_variants(source):
                yield pytest.param(source, variant, id=f"{rule.code}-invalid{number}-{label}")


def _codes(findings):
    return sorted(f.code for f in findings)


def assert_prefilter_agrees(source: str) -> None:
    rules = _rule_instances()
    with_prefilter = Linter(rules).lint_text(source, "case.py")
    without = Linter(rules, prefilter=False).lint_text(source, "case.py")
    assert with_prefilter == without
    # The same for each rule alone (as with --select): a rule's findings need its own
    # trigger words, not another rule's.
    for rule in rules:
        if any(f.code == rule.code for f in without):
            assert Linter([rule]).passes_prefilter(source), f"{rule.code} would be skipped"


@pytest.mark.parametrize("source", list(_sources()))
def test_prefilter_gives_the_findings_of_a_full_parse(source):
    assert_prefilter_agrees(source)


@pytest.mark.parametrize("source,variant", list(_import_variant_cases()))
def test_prefilter_agrees_on_other_spellings_of_the_imports(source, variant):
    assert_prefilter_agrees(variant)
    # The variant is the same program to the rules: still flagged (else it proves nothing).
    rules = _rule_instances()
    assert _codes(Linter(rules, prefilter=False).lint_text(variant, "case.py")) == \
        _codes(Linter(rules, prefilter=False).lint_text(source, "case.py"))


@pytest.mark.parametrize("label", ["requests-comma", "requests-comma-no-space", "requests-tab",
                                   "requests-two-spaces", "requests-continued",
                                   "requests-parenthesised", "requests-dotted-as",
                                   "requests-api-module", "wrapper-alias", "wrapper-module"])
def test_unusual_import_spellings_are_flagged(label):
    """The cases of issue 15: LKL401 was silent on these unless another rule's trigger
    word happened to be in the file."""
    codes = _codes(Linter(_rule_instances()).lint_text(EXTRA_CASES[label], "case.py"))
    assert codes == ["LKL401"]


@pytest.mark.parametrize("label,code", [
    ("importlib-threading", "LKL101"), ("importlib-asyncio", "LKL201"),
    ("importlib-inline", "LKL402"), ("six-moves-queue", "LKL301"), ("six-moves-http", "LKL403"),
    ("try-import-urllib2", "LKL402"), ("version-guard-queue", "LKL301"),
    ("self-attribute-class", "LKL403"), ("protocol-loop", "LKL201")])
def test_roads_of_issue_13_are_flagged_through_the_prefilter(label, code):
    """Each spelling reaches its rule with the prefilter on (the cases above check that
    the prefilter agrees with a full parse; this, that there is something to agree on)."""
    codes = _codes(Linter(_rule_instances()).lint_text(EXTRA_CASES[label], "case.py"))
    assert code in codes


def test_prefilter_skips_files_naming_nothing_a_rule_looks_for():
    linter = Linter(_rule_instances())
    assert not linter.passes_prefilter("import os\n\nprint(os.getcwd())\n")
    assert Linter(_rule_instances(), prefilter=False).passes_prefilter("import os\n")
