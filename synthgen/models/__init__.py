"""The models synthgen can fit. A new model is one module here plus one `register` line."""

from synthgen.models.base import REGISTRY, ModelInfo, Synthesizer, create, model_class, register

register(
    ModelInfo(
        "gaussian-copula",
        "synthgen.models.copula:GaussianCopula",
        "Empirical marginals joined by a Gaussian copula; fast, a strong default",
        needs=("scipy",),
    )
)

__all__ = ["REGISTRY", "ModelInfo", "Synthesizer", "create", "model_class", "register"]
