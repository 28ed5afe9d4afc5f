"""Two tables compared: the room below both the report and the models.

`values` turns a table (raw text or a model's typed sample) into typed values through the
schema; `fidelity` scores a synthetic table's columns and column pairs against the real ones
(SDMetrics' QualityReport definitions). The report builds on both; a model that stops
training on quality (ctgan) scores its samples with `fidelity.Reference` without importing
the report.

Example:
    >>> import pandas as pd
    >>> from synthgen.compare.fidelity import Reference
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 5, "c": list("abab") * 5})
    >>> round(Reference(real).quality_score(real), 3)
    1.0
"""
