"""The `jk500-rules` command line: audit, compile, check; errors as diagnostics, never tracebacks."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from ..engine.durable import EngineError
from ..engine.executor import WorkerError
from ..errors import Jk500Error, OutputError
from .arguments import build_parser
from .commands import COMMANDS, EXIT_FAILED, EXIT_INVALID

EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell reports for any program whose reader went away
PIECE = 1024  # characters per write to standard output: at most 4 KiB, within the stream's buffer (a pipe's: 4 KiB)


class ReaderGone(Exception):
    """Standard output's reader closed it (`jk500-rules audit ... | head -1`): nothing more can be written."""


class Stdout:
    """Standard output whose failures are the tool's, not bugs: a full disk an OutputError, a closed pipe
    ReaderGone. Every other attribute is the stream's own."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.failed = False

    def write(self, text: str) -> int:
        try:
            # In pieces the stream buffers: one write past its buffer is one system call, and a pipe whose
            # reader leaves during it returns part of it, which CPython 3.11 then drops without an error.
            for start in range(0, len(text), PIECE):
                self.stream.write(text[start:start + PIECE])
        except OSError as exc:
            raise self._failure(exc) from None
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            raise self._failure(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)

    def _failure(self, exc: OSError) -> Exception:
        self.failed = True
        if isinstance(exc, BrokenPipeError):
            return ReaderGone()
        return OutputError("<standard output>", f"cannot be written ({exc.strerror or exc})")


def main(argv: list[str] | None = None) -> int:
    real = sys.stdout
    guarded = Stdout(real) if real is not None else None
    sys.stdout = guarded  # type: ignore[assignment]
    try:
        code = _run(argv)
        if guarded is not None:
            guarded.flush()  # a full disk shows here, while it can still be reported, not at the exit
        return code
    except Jk500Error as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_INVALID
    except ReaderGone:  # the reader has what it wanted; like any program in a pipe, stop without a word
        return EXIT_CLOSED_PIPE
    finally:
        # Output that could not be written stays in the stream's buffer: the exit would try it again and
        # print "Exception ignored". The process's own stdout is then let go of; any other is given back.
        sys.stdout = None if guarded is not None and guarded.failed and real is sys.__stdout__ else real  # type: ignore[assignment]


def _run(argv: list[str] | None) -> int:
    args = build_parser(__doc__).parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (Jk500Error, ReaderGone):
        raise
    except (EngineError, WorkerError) as exc:  # the tool failed, not the input: no report is written
        print(f"jk500-rules: the audit failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug of ours: one clear line, the traceback on request
        if os.environ.get("JK500_TRACEBACK"):
            raise
        print(f"jk500-rules: internal error ({type(exc).__name__}: {exc}); this is a bug in jk500-rules, please "
              "report it with the command that caused it (JK500_TRACEBACK=1 shows the traceback)", file=sys.stderr)
        return EXIT_FAILED
