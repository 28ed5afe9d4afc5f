"""Doctests of modules whose optional extra is missing are not collected (the pandas-3 run has
neither torch nor sdv nor opendp)."""

import importlib.util

collect_ignore = [
    path
    for path, module in (
        ("synthgen/models/ctgan", "torch"),
        ("synthgen/models/sdv.py", "sdv"),
        ("synthgen/models/dp", "opendp"),
    )
    if importlib.util.find_spec(module) is None
]
