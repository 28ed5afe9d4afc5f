"""SDV 2.0's single-table synthesizers as peer models (the `sdv` extra; SDV's own licence, BUSL-1.1).

`sdv-gaussian-copula`, `sdv-ctgan`, `sdv-tvae` and `sdv-copulagan` run SDV's synthesizers behind
synthgen's schema, seeds, sampling and model file, so that their rows and reports sit beside those
of synthgen's own models. synthgen's part, around SDV's:

- fit: the table goes through synthgen's schema (detected, or the one given) and reaches SDV typed
  (numbers as numbers, dates as datetimes: `synthgen.columns.typed`), with SDV metadata whose
  sdtypes follow the schema. Keys, free text and constants never reach SDV, only whether they are
  null (synthgen writes them as it does for its own models); rare categories reach SDV as one
  placeholder, never as themselves, so SDV's saved model cannot hold them either.
- sample: SDV's rows are read back into synthgen's encoded parts by the column modules and decoded
  like any model's, so values come back as synthgen's models return them (ints as ints, dates in
  their input format, rare categories replaced, values inside the real bounds, new keys).
- seeds: SDV's `sample` takes no seed, and seeding numpy/random/torch around it does not reach
  the random state SDV keeps inside each synthesizer (measured with SDV 2.0.0: the same global
  seed gave different rows on the next call, and two seeds gave the same rows after
  `reset_sampling()`). So each block of rows (`BLOCK_ROWS`) is drawn after `reset_sampling()`
  and SDV's `_set_random_state(block seed)`, with numpy/random/torch seeded as well (and restored
  after); fitting runs under the fit seed, which is what makes CTGAN/TVAE training repeat. Same
  seed, same rows: reliable on one machine with the same versions on the CPU (tested). Not
  promised on a GPU (cuDNN kernels need not be deterministic), nor across SDV, torch or thread
  count changes; `_set_random_state` is SDV's private method, pinned by the extra (sdv==2.0.0).
- model file: SDV saves a model only as its own pickle. Those bytes ride in synthgen's model file
  as a uint8 array, and the manifest says `"requires_pickle": true`; `synthgen.load` refuses such a
  file unless `trust_pickle=True` (CLI: `--trust-pickle`), because unpickling can run code.

Example:
    >>> import synthgen                                                         # doctest: +SKIP
    >>> model = synthgen.fit(table, model="sdv-gaussian-copula", seed=0)        # doctest: +SKIP
    >>> model.sample(100, seed=1).shape                                         # doctest: +SKIP
    (100, 8)
"""

from __future__ import annotations

import contextlib
import inspect
import random
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synthgen.columns import KINDS, Encoded
from synthgen.columns.base import null_mask
from synthgen.errors import UsageError
from synthgen.models.base import BLOCK_ROWS, Synthesizer

_TABLE = "table"
# Warnings SDV and its libraries raise on every fit (e.g. "save the metadata as JSON"): noise here.
_SDV_MODULES = r"(sdv|rdt|copulas|ctgan|sdmetrics)(\..*)?$"


def _sdv_class(name: str) -> type:
    from sdv import single_table

    return getattr(single_table, name)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=_SDV_MODULES)
        yield


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed Python's, numpy's and torch's global generators; put the caller's states back after.

    torch is seeded when it is imported: creating an SDV model imports SDV, which imports it.
    """
    torch = sys.modules.get("torch")
    saved = random.getstate(), np.random.get_state()
    saved_torch = torch.random.get_rng_state() if torch is not None else None
    cuda = torch is not None and torch.cuda.is_available()
    saved_cuda = torch.cuda.get_rng_state_all() if cuda else None
    random.seed(seed)
    np.random.seed(seed)
    if torch is not None:
        torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        if torch is not None:
            torch.random.set_rng_state(saved_torch)
        if cuda:
            torch.cuda.set_rng_state_all(saved_cuda)


class SdvSynthesizer(Synthesizer):
    """Base of the SDV peers: `sdv_class` names the synthesizer in `sdv.single_table`.

    Keyword options are SDV's own (e.g. `epochs=10` for CTGAN) and are checked against its
    signature when the model is created.
    """

    sdv_class: ClassVar[str] = ""
    requires_pickle = True

    def __init__(self, *, rare_threshold: int = 5, **options: Any):
        accepted = set(inspect.signature(_sdv_class(self.sdv_class)).parameters) - {"metadata"}
        unknown = sorted(set(options) - accepted)
        if unknown:
            raise TypeError(
                f"SDV's {self.sdv_class} has no option {', '.join(unknown)}; "
                f"it takes {', '.join(sorted(accepted))}"
            )
        super().__init__(rare_threshold=rare_threshold, **options)
        self.options = options

    # ---- table <-> SDV's frame ----------------------------------------------------------------
    def _to_sdv(self, table: pd.DataFrame) -> pd.DataFrame:
        """The typed frame SDV learns from: modelled columns typed (`Kind.to_peer`), others as
        null flags."""
        out: dict[str, Any] = {}
        for col, state in zip(self.encoder_.schema.columns, self.encoder_.states):
            kind, values = KINDS[col.kind], table[col.name]
            if kind.sdtype is None:
                for part in kind.parts(col.name, state):
                    out[part.name] = null_mask(values)
            elif kind.to_peer is not None:
                out[col.name] = kind.to_peer(values, col, state)
            else:
                out[col.name] = kind.typed(values, col).array
        return pd.DataFrame(out)

    def _from_sdv(self, frame: pd.DataFrame, rng: np.random.Generator) -> Encoded:
        """SDV's rows as synthgen's encoded parts, read by the column kinds (`Kind.from_peer`)."""
        arrays: list[np.ndarray] = []
        for col, state in zip(self.encoder_.schema.columns, self.encoder_.states):
            kind = KINDS[col.kind]
            if kind.sdtype is None:
                for part in kind.parts(col.name, state):
                    arrays.append(frame[part.name].astype(bool).to_numpy().astype(np.int64))
                continue
            read = kind.from_peer or kind.encode
            arrays.extend(read(frame[col.name], col, state, rng))
        return Encoded.from_parts(self.encoder_.parts, arrays, len(frame))

    def _metadata(self, frame: pd.DataFrame) -> Any:
        """SDV's detected metadata, with each column's sdtype set by synthgen's schema."""
        from sdv.metadata import Metadata

        metadata = Metadata.detect_from_dataframes({_TABLE: frame}, infer_keys=None)
        detected = metadata.to_dict()["tables"][_TABLE]["columns"]
        sdtypes = {c.name: KINDS[c.kind].sdtype for c in self.encoder_.schema.columns}
        for name in frame.columns:
            sdtype = sdtypes.get(name) or "boolean"  # null flags are booleans
            if detected[name]["sdtype"] != sdtype:
                metadata.update_column(column_name=name, sdtype=sdtype, table_name=_TABLE)
        return metadata

    # ---- the Synthesizer contract -------------------------------------------------------------
    def _fit_table(self, table: pd.DataFrame, rng: np.random.Generator) -> None:
        from synthgen.rules.keep import modelled_table

        frame = self._to_sdv(modelled_table(self.encoder_, table))
        if not frame.shape[1]:
            raise UsageError(
                f"{self.name} has nothing to learn: the table has no numeric, categorical, "
                "boolean or date column, and no nulls"
            )
        with _quiet(), _seeded(self.seed_):
            synthesizer = _sdv_class(self.sdv_class)(self._metadata(frame), **self.options)
            synthesizer.fit({_TABLE: frame})
        self.synthesizer_ = synthesizer

    thread_safe_sampling = False  # `_seeded` sets the global random generators

    def _sample_block(self, block: int, n: int, seed: int) -> Encoded:
        """Block `block` of the rows for `seed`: SDV reseeded for this block (see module doc)."""
        rows = max(0, min(BLOCK_ROWS, n - block * BLOCK_ROWS))
        rng = np.random.default_rng([seed, block])
        if rows == 0:
            parts = self.encoder_.parts
            return Encoded.from_parts(parts, [np.zeros(0) for _ in parts], 0)
        block_seed = int(np.random.SeedSequence([seed, block]).generate_state(1)[0])
        with _quiet(), _seeded(block_seed):
            self.synthesizer_.reset_sampling()
            self.synthesizer_._set_random_state(block_seed)
            frame = self.synthesizer_.sample(rows)
        frame = frame[_TABLE] if isinstance(frame, dict) else frame
        return self._from_sdv(frame.reset_index(drop=True), rng)

    def to_state(self) -> dict[str, Any]:
        return {**super().to_state(), "requires_pickle": True}

    def _get_state(self) -> dict[str, Any]:
        import sdv

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "sdv.pkl"
            with _quiet():
                self.synthesizer_.save(str(path))
            raw = path.read_bytes()
        return {"sdv_version": sdv.__version__, "sdv_pickle": np.frombuffer(raw, dtype=np.uint8)}

    def _set_state(self, state: dict[str, Any]) -> None:
        # Reached only through `synthgen.load(..., trust_pickle=True)`: this unpickles.
        raw = np.asarray(state["sdv_pickle"], dtype=np.uint8).tobytes()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "sdv.pkl"
            path.write_bytes(raw)
            from sdv.utils import load_synthesizer

            with _quiet():
                self.synthesizer_ = load_synthesizer(str(path))

    def describe(self) -> dict[str, Any]:
        return {
            "sdv_synthesizer": self.sdv_class,
            "options": self.options,
            "columns_given_to_sdv": [
                c.name.replace("\x1f", " ")  # a rule's column: "dropoff gap"
                for c in self.encoder_.schema.columns
                if KINDS[c.kind].sdtype is not None
            ],
        }


class SdvGaussianCopula(SdvSynthesizer):
    """SDV's GaussianCopulaSynthesizer (parametric marginals, Gaussian copula)."""

    name = "sdv-gaussian-copula"
    sdv_class = "GaussianCopulaSynthesizer"


class SdvCTGAN(SdvSynthesizer):
    """SDV's CTGANSynthesizer (conditional GAN; options such as epochs, batch_size)."""

    name = "sdv-ctgan"
    sdv_class = "CTGANSynthesizer"


class SdvTVAE(SdvSynthesizer):
    """SDV's TVAESynthesizer (variational autoencoder; options such as epochs, batch_size)."""

    name = "sdv-tvae"
    sdv_class = "TVAESynthesizer"


class SdvCopulaGAN(SdvSynthesizer):
    """SDV's CopulaGANSynthesizer (CTGAN on copula-transformed numbers)."""

    name = "sdv-copulagan"
    sdv_class = "CopulaGANSynthesizer"
