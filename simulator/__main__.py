"""``python -m simulator``: see simulator/runner.py."""

from .runner import main

raise SystemExit(main())
