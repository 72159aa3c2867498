"""``python -m devtools``: see devtools/cli.py."""

from .cli import main

raise SystemExit(main())
