"""One error family for rules text and input files, rendered like a compiler diagnostic."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node sits in its source: 1-based line and column, end exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem at one place, with an optional hint."""

    message: str
    span: Span | None
    hint: str | None = None
    severity: str = "error"

    def render(self, filename: str, source: str | None) -> str:
        where = f"{filename}:{self.span.line}:{self.span.column}" if self.span else filename
        lines = [f"{where}: {self.severity}: {self.message}"]
        if self.span and source is not None:
            lines.extend(_excerpt(source, self.span))
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


def _excerpt(source: str, span: Span) -> list[str]:
    # Lines as the parser counts them: at "\n" only, not at the other breaks str.splitlines knows.
    source_lines = [line.removesuffix("\r") for line in source.split("\n")]
    if not 1 <= span.line <= len(source_lines):
        return []
    text = source_lines[span.line - 1].expandtabs(1)
    gutter = f"{span.line:>4} | "
    end = span.end_column if span.end_line == span.line else len(text) + 1
    width = max(1, end - span.column)
    caret = " " * (len(gutter) - 2) + "| " + " " * (span.column - 1) + "^" * width
    return [gutter + text, caret]


class Jk500Error(Exception):
    """Base of every error the tool reports to a user (never shown as a traceback)."""

    exit_code = 2

    def render(self) -> str:
        return str(self)


class RulesError(Jk500Error):
    """The rules text is invalid; carries every diagnostic found in one pass."""

    def __init__(self, filename: str, source: str, diagnostics: list[Diagnostic]):
        self.filename = filename
        self.source = source
        self.diagnostics = diagnostics
        super().__init__(self.render())

    def render(self) -> str:
        rendered = [d.render(self.filename, self.source) for d in self.diagnostics]
        errors = sum(1 for d in self.diagnostics if d.severity == "error")
        rendered.append(f"{errors} error{'s' if errors != 1 else ''} in {self.filename}")
        return "\n".join(rendered)


class InputError(Jk500Error):
    """An input file cannot be read at all (as opposed to a rejected row)."""

    def __init__(self, filename: str, message: str, line: int | None = None):
        self.filename = filename
        self.line = line
        where = f"{filename}:{line}" if line else filename
        super().__init__(f"{where}: error: {message}")


class OutputError(Jk500Error):
    """A report cannot be written where it was asked for (a file, a folder, standard output)."""

    def __init__(self, filename: str, message: str):
        self.filename = filename
        super().__init__(f"{filename}: error: {message}")


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str | None:
    """A hint naming the closest known word, if one is close enough to be a likely typo."""
    import difflib

    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
