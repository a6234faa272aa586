"""`python -m chartgate merge ...`: see chartgate.cli."""

from .cli import main

raise SystemExit(main())
