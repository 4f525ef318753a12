"""LKL401's `timeout-functions` option: the user's own wrappers must be given a timeout."""
import textwrap

from leaklint.config import load_config
from leaklint.engine import Linter
from leaklint.rules.lkl401_requests_no_timeout import RequestsNoTimeout

SOURCE = textwrap.dedent("""\
    from mycompany.http import fetch
    import mycompany.http as h

    def a(url):
        return fetch(url)

    def b(url):
        return h.fetch(url, timeout=None)

    def c(url):
        return fetch(url, timeout=5)

    def d(url, **kw):
        return fetch(url, **kw)

    def e(fetch, url):
        return fetch(url)
    """)


def lint(settings=None):
    rule = RequestsNoTimeout(settings)
    return [(f.line, f.code) for f in Linter([rule]).lint_text(SOURCE, "m.py")]


def test_wrappers_listed_in_the_option_need_a_timeout():
    assert lint({"timeout-functions": ["mycompany.http.fetch"]}) == [(5, "LKL401"), (8, "LKL401")]


def test_option_off_by_default():
    assert lint() == []


def test_wrapper_name_joins_the_prefilter():
    # The file never mentions requests: the wrapper's name must make it be parsed.
    assert "fetch" in RequestsNoTimeout({"timeout-functions": ["mycompany.http.fetch"]}).trigger_words
    assert "fetch" not in RequestsNoTimeout.trigger_words


def test_message_names_the_wrapper():
    rule = RequestsNoTimeout({"timeout-functions": ["mycompany.http.fetch"]})
    findings = Linter([rule]).lint_text(SOURCE, "m.py")
    assert "`mycompany.http.fetch` is listed in `timeout-functions`" in findings[0].message


def test_option_read_from_pyproject(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.leaklint]\ntimeout-functions = ["mycompany.http.fetch"]\n')
    config = load_config(str(path))
    assert config.rule_options["timeout-functions"] == ["mycompany.http.fetch"]
    assert lint(config.rule_options) == [(5, "LKL401"), (8, "LKL401")]
