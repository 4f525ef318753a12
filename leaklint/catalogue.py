"""What the command line and the flake8 plugin need to know about the rules, without
importing them.

Selecting codes, the default `test-ignore` and the configuration keys need each rule's
code, whether it is on by default, whether it applies to tests and its option names;
flake8 needs each option's type, default and help to register it as `--leaklint-NAME`
(on every run, linted or not: `flake8 --select E` too); the screen (leaklint/screen.py)
needs each rule's trigger data to tell the files that need no parsing. Importing the
rules for that imports libcst (0.15-1 s): most of a warm run, which lints nothing, and of
a run over files that spell no resource. So the generated
`leaklint/_rule_catalogue.py` (written by `scripts/gen_rules_doc.py`, which `--check`s
it with docs/rules.md) holds those facts with a digest of the source files of
`leaklint/rules`. When the digest matches (reading and hashing them takes about a
millisecond) the facts are used; otherwise (a rule edited and the catalogue not
regenerated) the rules are imported, as before: slower, never wrong.
"""
from __future__ import annotations

import hashlib
import os
import sys
from functools import lru_cache
from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple

RULES_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rules")


class RuleInfo(NamedTuple):
    code: str
    name: str
    default_enabled: bool
    applies_to_tests: bool
    options: Tuple[str, ...]  # Option.name of each option


class OptionInfo(NamedTuple):
    """A rule `Option`, its check named: what registering it as a flake8 option and
    checking a value set for it (`check_value`) need."""

    name: str
    type: type  # list, int, bool or str
    default: Any
    help: str
    adds_triggers: bool  # a value other than the default adds to the rule's triggers
    check: Optional[str]  # the name of its check in leaklint.option_checks


class RuleTriggers(NamedTuple):
    """A rule class's trigger data (see `rules.base.Rule`): what the screen needs of it."""

    code: str
    trigger_words: Tuple[str, ...]
    trigger_names: Optional[Tuple[str, ...]]
    name_free_words: Tuple[str, ...]


_OPTION_TYPES = {t.__name__: t for t in (list, int, bool, str)}


def rules_digest() -> str:
    """A hash of every source file of the rules package: any edit changes it."""
    digest = hashlib.blake2b(digest_size=16)
    for name in sorted(os.listdir(RULES_FOLDER)):
        if name.endswith(".py"):
            with open(os.path.join(RULES_FOLDER, name), "rb") as handle:
                data = handle.read()
            digest.update(f"{name}\0{len(data)}\0".encode("utf-8", "surrogateescape"))
            digest.update(data)
    return digest.hexdigest()


def from_rule_classes() -> Tuple[RuleInfo, ...]:
    """The facts, read off the rule classes (imports them, and libcst)."""
    from leaklint.registry import all_rules

    return tuple(RuleInfo(rule.code, rule.name, bool(rule.default_enabled), bool(rule.applies_to_tests),
                          tuple(option.name for option in rule.options))
                 for rule in all_rules())


def rule_infos() -> Tuple[RuleInfo, ...]:
    """Every rule's facts, sorted by code: from the rule classes when they are imported
    already (then asking them costs nothing, and tests that add rules are seen), else from
    the generated catalogue when it is current."""
    if "leaklint.rules.base" in sys.modules:
        return from_rule_classes()
    return _from_catalogue()


def options_from_rule_classes() -> Dict[str, OptionInfo]:
    """Every rule option by name, read off the rule classes (first declaration wins when
    rules share one, as `EXCEPTION_PATHS`); imports them, and libcst."""
    from leaklint import option_checks
    from leaklint.registry import all_rules

    found: Dict[str, OptionInfo] = {}
    for rule in all_rules():
        for option in rule.options:
            check = option.check and option.check.__name__
            if check is not None and getattr(option_checks, check, None) is not option.check:
                raise RuntimeError(f"{rule.code}'s option {option.name}: its check must be a "
                                   f"function of leaklint.option_checks")
            found.setdefault(option.name, OptionInfo(option.name, option.type, option.default,
                                                     option.help, option.adds_triggers, check))
    return found


def check_value(option: OptionInfo, value: Any) -> Optional[str]:
    """The option's own check of a value of its type: the problem as one line, None if
    fine. Runs without the rules (leaklint.option_checks)."""
    if option.check is None:
        return None
    from leaklint import option_checks

    return getattr(option_checks, option.check)(value)


def rule_options() -> Dict[str, OptionInfo]:
    """Every rule option by name, from the same source as `rule_infos`."""
    if "leaklint.rules.base" in sys.modules:
        return options_from_rule_classes()
    return {option.name: option for option in _options_from_catalogue()}


def triggers_from_rule_classes() -> Tuple[RuleTriggers, ...]:
    """Every rule class's trigger data, sorted by code (imports the rules, and libcst).
    The class's: an instance may add the words and names its options bring (LKL401's
    `timeout-functions`; `screen.lazy_linter` says how that is handled)."""
    from leaklint.registry import all_rules

    return tuple(RuleTriggers(rule.code, tuple(rule.trigger_words),
                              None if rule.trigger_names is None else tuple(rule.trigger_names),
                              tuple(rule.name_free_words))
                 for rule in all_rules())


def rule_triggers() -> Tuple[RuleTriggers, ...]:
    """Every rule's trigger data, from the same source as `rule_infos`."""
    if "leaklint.rules.base" in sys.modules:
        return triggers_from_rule_classes()
    return _triggers_from_catalogue()


@lru_cache(maxsize=1)
def _triggers_from_catalogue() -> Tuple[RuleTriggers, ...]:
    return _rows("TRIGGERS", RuleTriggers, triggers_from_rule_classes)


@lru_cache(maxsize=1)
def _options_from_catalogue() -> Tuple[OptionInfo, ...]:
    generated = _current_catalogue()
    if generated is None:
        return tuple(options_from_rule_classes().values())
    return tuple(OptionInfo(name, _OPTION_TYPES[type_name], default, help_text, adds_triggers, check)
                 for name, type_name, default, help_text, adds_triggers, check in generated.OPTIONS)


@lru_cache(maxsize=1)
def _current_catalogue() -> Optional[Any]:
    """The generated module while its digest matches the rules' sources, else None
    (hashed once per process: the rules' facts and their options both ask)."""
    try:
        from leaklint import _rule_catalogue as generated
    except ImportError:
        return None
    try:
        current = generated.RULES_DIGEST == rules_digest()
    except OSError:  # the sources are not files (a zip import): trust the rules only
        current = False
    return generated if current else None


@lru_cache(maxsize=1)
def _from_catalogue() -> Tuple[RuleInfo, ...]:
    return _rows("RULES", RuleInfo, from_rule_classes)


def _rows(table: str, record: Callable[..., Any], from_classes: Callable[[], tuple]) -> tuple:
    """The generated catalogue's `table`, a `record` per row, while it is current; else
    what `from_classes` reads off the rule classes."""
    generated = _current_catalogue()
    if generated is None:
        return from_classes()
    return tuple(record(*row) for row in getattr(generated, table))


def render() -> str:
    """The text of `leaklint/_rule_catalogue.py` for the rules as they are."""
    rows = "".join(f"    {tuple(info)!r},\n" for info in from_rule_classes())
    options = "".join(f"    {(o.name, o.type.__name__, o.default, o.help, o.adds_triggers, o.check)!r},\n"
                      for o in options_from_rule_classes().values())
    triggers = "".join(f"    {tuple(rule)!r},\n" for rule in triggers_from_rule_classes())
    return ('"""Generated by scripts/gen_rules_doc.py from the rule classes; do not edit.\n'
            'See leaklint/catalogue.py."""\n'
            f"RULES_DIGEST = {rules_digest()!r}\n"
            "# (code, name, default_enabled, applies_to_tests, option names)\n"
            f"RULES = (\n{rows})\n"
            "# (name, type, default, help, adds_triggers, check) of each rule option\n"
            f"OPTIONS: tuple = (\n{options})\n"
            "# (code, trigger_words, trigger_names, name_free_words) of each rule class\n"
            f"TRIGGERS: tuple = (\n{triggers})\n")
