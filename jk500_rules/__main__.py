"""`python -m jk500_rules`: the same command line as `jk500-rules`."""

from .cli import main

raise SystemExit(main())
