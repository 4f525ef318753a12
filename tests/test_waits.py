"""The blocking-wait rules: LKL6xx selection, the wait-functions-ok option, and waits
found past the point where the waited-on object escapes."""
from leaklint.engine import Linter
from leaklint.registry import all_rules, rule_by_code, selected_codes

WAIT_CODES = {rule.code for rule in all_rules() if rule.code.startswith("LKL6")}

GET_IN_HELPERS = (
    "import queue\n"
    "from mycompany.sync import watchdog, run_bounded\n\n"
    "def f(start):\n"
    "    q = queue.Queue()\n"
    "    start(q)\n"
    "    with watchdog(30):\n"
    "        first = q.get()\n"
    "    second = run_bounded(lambda: q.get(), 30)\n"
    "    return first, second, local_watchdog(lambda: q.get())\n\n"
    "def local_watchdog(fn):\n"
    "    return fn()\n")


def lines(code, text, **settings):
    return sorted(f.line for f in Linter([rule_by_code(code)(settings)]).lint_text(text, "m.py"))


def test_wait_rules_are_off_unless_selected_more_specifically_than_lkl():
    assert len(WAIT_CODES) == 7
    assert not WAIT_CODES & selected_codes()
    assert not WAIT_CODES & selected_codes(select=["LKL"])
    assert WAIT_CODES <= selected_codes(extend_select=["LKL6"])
    assert selected_codes(select=["LKL602"]) == {"LKL602"}
    assert {"LKL305", "LKL306"} <= selected_codes()


def test_list_rules_shows_them_off_and_extend_select_turns_them_on(run_cli, tmp_path):
    listing = run_cli("--list-rules").out
    assert all(any(line.startswith(code) and " off " in line for line in listing.splitlines())
               for code in WAIT_CODES)
    (tmp_path / "m.py").write_text(
        "import threading\n\ndef f(work):\n    t = threading.Thread(target=work)\n"
        "    t.start()\n    t.join()\n")
    assert "LKL601" not in run_cli("--no-cache", "m.py").out
    assert "m.py:6:5: LKL601 " in run_cli("--no-cache", "--extend-select", "LKL6", "m.py").out


def test_wait_functions_ok_silences_waits_inside_listed_helpers():
    assert lines("LKL602", GET_IN_HELPERS) == [8, 9, 10]
    assert lines("LKL602", GET_IN_HELPERS, **{"wait-functions-ok": [
        "mycompany.sync.watchdog", "mycompany.sync.run_bounded", "project.local_watchdog"]}) == []
    assert lines("LKL602", GET_IN_HELPERS, **{"wait-functions-ok": ["mycompany.sync.watchdog"]}) == [9, 10]


def test_a_wait_after_the_object_escapes_is_still_found():
    text = ("import threading\n\ndef f(work, registry):\n    t = threading.Thread(target=work)\n"
            "    registry.append(t)\n    t.start()\n    t.join()\n")
    assert lines("LKL601", text) == [7]


def test_a_receiver_also_bound_to_a_parameter_is_of_unknown_kind():
    text = ("import threading\n\ndef f(lock=None):\n    lock = lock or threading.Lock()\n"
            "    lock.acquire()\n")
    assert lines("LKL605", text) == []


def test_flake8_runs_the_wait_rules_only_when_their_family_is_selected(tmp_path, capsys):
    from flake8.main.application import Application

    path = tmp_path / "m.py"
    path.write_text("import threading\n\ndef f(work):\n    t = threading.Thread(target=work)\n"
                    "    t.start()\n    t.join()\n")

    def flake8(*argv):
        app = Application()
        app.run(["--isolated", "--jobs=1", *argv, str(path)])
        return capsys.readouterr().out

    assert "LKL601" not in flake8("--select", "LKL")
    assert ":6:5: LKL601 " in flake8("--select", "LKL", "--extend-select", "LKL6")
