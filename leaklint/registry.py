"""Finds the rule classes: every `Rule` subclass with a code in a module of leaklint.rules.

Selecting codes needs only the facts of `leaklint.catalogue` (no rule is imported)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Dict, Iterable, Optional, Sequence, Set, Type

from leaklint.catalogue import rule_infos

if TYPE_CHECKING:
    from leaklint.rules.base import Rule


@lru_cache(maxsize=1)
def all_rules() -> tuple:
    """Every rule class, sorted by code. Imported once per process."""
    import importlib
    import pkgutil

    from leaklint import rules as rules_package
    from leaklint.rules.base import Rule

    found: Dict[str, Type[Rule]] = {}
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


def rule_by_code(code: str) -> Optional[Type[Rule]]:
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
    for rule in rule_infos():
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


@dataclass(frozen=True)
class Selection:
    """The select/ignore entries of one source: the configuration file or the command line.
    `ignore` holds `extend-ignore` too (the same thing: both add to what is ignored)."""

    select: Optional[Sequence[str]] = None
    ignore: Sequence[str] = ()
    extend_select: Sequence[str] = ()


def enabled_codes(layers: Sequence[Selection]) -> Set[str]:
    """The rule and tool codes on after `layers`, applied in order, later ones winning
    (as in ruff, the configuration file first, then the command line).

    A layer with `select` starts over from it (with its own ignore and extend-select):
    `--select` on the command line sets the file's whole selection aside. A layer without
    one adjusts what the earlier ones left: its `ignore` turns codes off and its
    `extend-select` on, the more specific entry winning. Tool codes (LKL0xx) are on
    until ignored: `select` alone never turns them off.
    """
    from leaklint.diagnostics import TOOL_CODES

    default_off = {rule.code for rule in rule_infos() if not rule.default_enabled}

    def strength(code, entries):  # an off-by-default rule needs more than "LKL"
        match = _matches(code, entries)
        return 0 if code in default_off and match <= 3 else match

    enabled = selected_codes() | set(TOOL_CODES)
    for layer in layers:
        if layer.select is not None:
            enabled = selected_codes(layer.select, layer.ignore, layer.extend_select)
            for code in TOOL_CODES:
                chosen = max(_matches(code, layer.select), _matches(code, layer.extend_select))
                if _matches(code, layer.ignore) <= chosen:
                    enabled.add(code)
            continue
        for code in [rule.code for rule in rule_infos()] + list(TOOL_CODES):
            on, off = strength(code, layer.extend_select), _matches(code, layer.ignore)
            if off > on:
                enabled.discard(code)
            elif on:
                enabled.add(code)
    return enabled


def known_prefix(entry: str) -> bool:
    """True when `entry` names at least one code (or a tool-level LKL0xx code)."""
    from leaklint.diagnostics import TOOL_CODES

    if entry == "ALL":
        return True
    codes = [r.code for r in rule_infos()] + list(TOOL_CODES)
    return any(code.startswith(entry) for code in codes)
