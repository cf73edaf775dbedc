"""`python -m bench.perf`: run the overhead benchmark (see bench/README.md)."""

from bench.perf.run import main

raise SystemExit(main())
