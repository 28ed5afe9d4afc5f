"""Doctests of modules whose optional extra is missing are not collected (the pandas-3 run has
neither torch nor sdv)."""

import importlib.util

collect_ignore = [
    path
    for path, module in (("synthgen/models/ctgan", "torch"), ("synthgen/models/sdv.py", "sdv"))
    if importlib.util.find_spec(module) is None
]
