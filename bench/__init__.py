"""Benchmarks (print tables; never part of the test verdict) and the measuring helpers
that e2e/test_budgets.py shares with them. See docs/performance.md."""
