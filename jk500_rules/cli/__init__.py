"""The `jk500-rules` command line: audit, compile, check; errors as diagnostics, never tracebacks."""

from __future__ import annotations

import os
import sys

from ..engine.durable import EngineError
from ..engine.executor import WorkerError
from ..errors import Jk500Error
from .arguments import build_parser
from .commands import COMMANDS, EXIT_FAILED, EXIT_INVALID


def main(argv: list[str] | None = None) -> int:
    args = build_parser(__doc__).parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except Jk500Error as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_INVALID
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
