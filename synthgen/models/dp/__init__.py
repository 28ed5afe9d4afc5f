"""Differentially private models (the `dp` extra: opendp, mbi, jax): AIM and MST.

`accounting` turns (epsilon, delta) into a zCDP budget and splits it; `domain` finds each
column's values privately (or takes them from a public schema); `model` fits and samples.
Only the registry names these models; opendp, polars and jax load when one is fitted.
"""
