"""What a rule option's value must be beyond its type: each `Option.check` is a function
of this module, which imports neither libcst nor the rules, so that a configuration
setting an option is checked without them (a run whose files all stop at the screen then
imports neither: leaklint/screen.py). The catalogue names each option's check
(leaklint/catalogue.py, `check_value`); a check defined elsewhere is refused there."""
from __future__ import annotations

import keyword
from typing import Optional

# The kinds checked on every path (`ResourceKind.every_path`), by the noun each rule gives
# its kind: the values of the `exception-paths` option, shared by those rules.
PATH_KINDS = ("thread", "timer", "process", "pool", "executor", "subprocess")


def dotted_names(value: list) -> Optional[str]:
    """Every item is a dotted Python name like `mycompany.http.fetch`."""
    for item in value:
        parts = item.split(".") if isinstance(item, str) else [None]
        if not all(isinstance(p, str) and p.isidentifier() and not keyword.iskeyword(p)
                   for p in parts):
            return f"{item!r} is not a dotted Python name (like mycompany.http.fetch)"
    return None


def path_kinds(value: list) -> Optional[str]:
    """Every item is one of `PATH_KINDS`."""
    for item in value:
        if item not in PATH_KINDS:
            return f"{item!r} is not one of {', '.join(PATH_KINDS)}"
    return None
