"""The registry that names the models: what each is, what it needs installed, the options the
command line sets on it and the settings that fit it in seconds. Nothing heavy is imported here
(`synthgen --help` reads it): a model's module is imported only when the model is used.

Example:
    >>> from synthgen.models import REGISTRY
    >>> REGISTRY["gmm"].options["components"]
    'default: chosen on held-out rows'
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from synthgen.errors import MissingDependencyError, UsageError

if TYPE_CHECKING:
    from synthgen.models.base import Synthesizer


@dataclass(frozen=True)
class ModelInfo:
    """One registered model.

    `options`: the model's own parameters that `synthgen fit` sets (`--min-leaf` sets
    `min_leaf`), each with what that option's help says of this model (its default, or what the
    option does here; "" for nothing more). `fast_params`: settings that fit the contract
    suite's 400-row table in seconds (`{}` when the defaults already do); a model registered
    without them fails `tests/test_contract.py`.
    """

    name: str
    target: str  # "module:Class", imported only when the model is used
    summary: str
    needs: tuple[str, ...] = ()  # importable modules the model needs
    extra: str | None = None  # the pip extra that installs them
    licence: str = "MIT (synthgen)"
    options: dict[str, str] = field(default_factory=dict)
    fast_params: dict[str, Any] | None = None

    def available(self) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in self.needs)


REGISTRY: dict[str, ModelInfo] = {}


def register(info: ModelInfo) -> None:
    REGISTRY[info.name] = info


def model_class(name: str) -> type[Synthesizer]:
    """The class registered under `name`; a clear error when unknown or not installed."""
    info = REGISTRY.get(name)
    if info is None:
        raise UsageError(f"unknown model {name!r}; choose one of: {', '.join(REGISTRY)}")
    if not info.available():
        raise MissingDependencyError(
            f"model {name!r} needs {', '.join(info.needs)}: pip install 'synthgen[{info.extra}]'"
        )
    module, cls = info.target.split(":")
    return getattr(importlib.import_module(module), cls)


def create(name: str, **params: Any) -> Synthesizer:
    try:
        return model_class(name)(**params)
    except TypeError as exc:
        raise UsageError(f"model {name!r}: {exc}") from None
