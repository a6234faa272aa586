"""`python -m chartgate merge ...`: see chartgate.cli."""

from chartgate.cli import main

raise SystemExit(main())
