"""The one record every part of leaklint exchanges: a finding at a place in a file."""
from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True, order=True)
class Finding:
    """A reported problem. Ordered by path, line, column, code, so sorting is deterministic.

    ``line``/``column`` are 1-based (flake8's text convention); ``noqa_lines`` is the
    first and last line of the statement holding the finding: a ``# noqa`` on any of them
    suppresses it. ``fingerprint`` identifies the flagged code independently of its line
    (for baselines).
    """

    path: str
    line: int
    column: int
    code: str
    message: str
    end_line: int = 0
    end_column: int = 0
    name: str = field(default="", compare=False)
    fix: str = field(default="", compare=False)
    noqa_lines: tuple = field(default=(0, 0), compare=False)
    fingerprint: str = field(default="", compare=False)
    # Extra text shown only with --verbose (an internal error's traceback).
    detail: str = field(default="", compare=False)
    # In a test file (see leaklint/testcode.py): reports show it at a lower level. Set
    # after linting, from the path, so it is never part of a cached result.
    test: bool = field(default=False, compare=False)
    # What must hold in the rest of the project for the finding to stand (see
    # leaklint/project.py): set by the engine, resolved before anything is reported.
    requires: tuple = field(default=(), compare=False)

    def in_test_file(self) -> "Finding":
        return replace(self, test=True)

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "fix": self.fix,
            "fingerprint": self.fingerprint,
            "test": self.test,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Finding":
        return cls(
            path=data["path"],
            line=data["line"],
            column=data["column"],
            code=data["code"],
            message=data["message"],
            end_line=data.get("end_line", 0),
            end_column=data.get("end_column", 0),
            name=data.get("name", ""),
            fix=data.get("fix", ""),
            noqa_lines=tuple(data.get("noqa_lines", (0, 0))),
            fingerprint=data.get("fingerprint", ""),
            detail=data.get("detail", ""),
            test=data.get("test", False),
        )
