"""`python -m benchmarks`: see `benchmarks` for the protocol."""

from benchmarks.run import main

raise SystemExit(main())
