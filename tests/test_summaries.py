"""Function summaries (leaklint.summaries): what they say, and that they survive JSON."""
import json
import textwrap

import libcst as cst

from leaklint.index import FileIndex
from leaklint.summaries import (
    Fresh,
    FunctionSummary,
    ParamUse,
    dumps,
    loads,
    module_summaries,
)

SOURCE = textwrap.dedent('''
    import functools
    import threading
    import requests
    from concurrent.futures import ThreadPoolExecutor

    def start_worker(fn):
        t = threading.Thread(target=fn)
        t.daemon = False
        t.start()
        return t

    def start_daemon(fn):
        t = threading.Thread(target=fn, daemon=True)
        t.start()
        return t

    def via_other():
        return start_worker(print)

    def maybe(enabled):
        if not enabled:
            return None
        return ThreadPoolExecutor()

    def session_or_false(user):
        session = requests.session()
        if not user:
            return False
        session.auth = user
        return session

    def passthrough(pool):
        return pool

    def registered(registry):
        t = threading.Thread(target=print)
        registry.append(t)
        return t

    def stop(t, pool):
        t.join()
        with pool:
            pass
        keep(t)

    def recursive():
        return recursive()

    @functools.lru_cache()
    def shared_session():
        return requests.Session()

    class Client:
        def _make_session(self):
            s = requests.Session()
            s.headers["X"] = "y"
            s.verify = False
            return s

        @functools.cached_property
        def pool(self):
            return ThreadPoolExecutor()

        def shared(self):
            return self._pool

        def close(self):
            self._thread.join()
            self.pool.shutdown(wait=True)
''')


def summaries():
    return module_summaries(FileIndex(cst.parse_module(SOURCE)))


def test_factories_and_what_they_did():
    found = summaries()
    assert found["start_worker"].returns == (
        Fresh("threading.Thread", calls=("start",), stores=("daemon",)),)
    assert found["start_daemon"].fresh == Fresh("threading.Thread", calls=("start",), daemon=True)
    assert found["via_other"].fresh == found["start_worker"].fresh  # a factory's factory
    assert found["maybe"].fresh == Fresh("concurrent.futures.ThreadPoolExecutor")  # None aside
    # `return None` / `return False` on a failure path does not hide the factory
    assert found["session_or_false"].fresh == Fresh("requests.session", stores=("auth",))
    assert found["Client._make_session"].kind == "method"
    # `s.headers["X"] = ...` changes what `s.headers` holds, not an attribute of `s`
    assert found["Client._make_session"].fresh == Fresh("requests.Session", stores=("verify",))
    assert found["Client.pool"].kind == "property"
    assert found["Client.pool"].fresh == Fresh("concurrent.futures.ThreadPoolExecutor")


def test_not_factories():
    found = summaries()
    for name in ("passthrough", "registered", "recursive", "shared_session", "Client.shared",
                 "stop", "Client.close"):
        assert found[name].returns == (), name


def test_parameters_and_self_calls():
    found = summaries()
    assert found["stop"].params == (ParamUse("t", 0, ("join",), escapes=True),
                                    ParamUse("pool", 1, ("__enter__",), escapes=False))
    assert found["Client.close"].self_calls == (("_thread", "join"), ("pool", "shutdown"))
    assert found["passthrough"].params == (ParamUse("pool", 0, (), escapes=True),)


def test_json_round_trip():
    found = summaries()
    text = dumps(found)
    json.loads(text)  # plain JSON
    assert loads(text) == found
    assert FunctionSummary.from_json(json.loads(json.dumps(found["stop"].to_json()))) == found["stop"]


def test_other_format_versions_are_not_read():
    data = json.loads(dumps(summaries()))
    data["version"] = -1
    assert loads(json.dumps(data)) is None


def test_summaries_are_computed_only_for_functions_called():
    from leaklint.rules.lkl101_thread_not_joined import ThreadNotJoined

    index = FileIndex(cst.parse_module(SOURCE))
    list(ThreadNotJoined().check(index))
    computed = {s.qualname for s in index.shared.get("summaries", {}).values()}
    # via_other() calls start_worker(); recursive() calls itself; stop() calls keep() (not
    # a function of the module); Client.pool is a property. Nothing else is looked at.
    assert computed == {"start_worker", "recursive", "Client.pool"}


def test_source_positions_do_not_share_values_source_order_cache():
    # Rules run in any subset (leaklint/gate.py): whichever helper fills its cache first,
    # the other must still order nodes by source position.
    from leaklint import summaries, values

    module = cst.parse_module("a = 1\nb = 2\n")
    index = FileIndex(module)
    values.source_order(index, module)
    first, second = module.body
    assert summaries._source_position(index, first) < summaries._source_position(index, second)
