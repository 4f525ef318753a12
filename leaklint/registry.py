"""Finds the rule classes: every `Rule` subclass with a code in a module of leaklint.rules."""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from typing import Iterable

from leaklint import rules as rules_package
from leaklint.rules.base import Rule


@lru_cache(maxsize=1)
def all_rules() -> tuple:
    """Every rule class, sorted by code. Imported once per process."""
    found = {}
    for module_info in pkgutil.iter_modules(rules_package.__path__):
        if module_info.name == "base":
            continue
        module = importlib.import_module(f"{rules_package.__name__}.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value.code:
                if value.code in found and found[value.code] is not value:
                    raise RuntimeError(f"two rules claim {value.code}")
                found[value.code] = value
    return tuple(found[code] for code in sorted(found))


def rule_by_code(code: str):
    for rule in all_rules():
        if rule.code == code:
            return rule
    return None


def _matches(code: str, prefixes: Iterable[str]) -> int:
    """Length of the longest prefix in `prefixes` that `code` starts with (0: none)."""
    best = 0
    for prefix in prefixes:
        if prefix == "ALL":
            best = max(best, 1)
        elif code.startswith(prefix):
            best = max(best, len(prefix))
    return best


def selected_codes(select=None, ignore=(), extend_select=()) -> set:
    """Resolve select/ignore/extend-select (codes or prefixes) to the enabled rule codes.

    With no `select`, the default-on rules are the base. A longer (more specific) entry
    wins over a shorter one, as in flake8: `ignore = ["LKL1"]`, `select = ["LKL101"]`
    keeps LKL101. Off-by-default rules need an entry more specific than the bare `LKL`
    prefix (e.g. `LKL6` or `LKL601`), so `--select LKL` means "the usual rules".
    """
    chosen = set()
    for rule in all_rules():
        code = rule.code
        if select is None:
            on = 1 if rule.default_enabled else 0  # weaker than any explicit entry
        else:
            on = _matches(code, select)
            if not rule.default_enabled and on <= 3:
                on = 0
        extra = _matches(code, extend_select)
        if not rule.default_enabled and extra <= 3:
            extra = 0
        on = max(on, extra)
        off = _matches(code, ignore)
        if on and on >= off:
            chosen.add(code)
    return chosen


def known_prefix(entry: str) -> bool:
    """True when `entry` names at least one code (or a tool-level LKL0xx code)."""
    from leaklint.diagnostics import TOOL_CODES

    if entry == "ALL":
        return True
    codes = [r.code for r in all_rules()] + list(TOOL_CODES)
    return any(code.startswith(entry) for code in codes)
