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
register(
    ModelInfo(
        "gmm",
        "synthgen.models.gmm:GaussianMixture",
        "Mixture of clusters, each with its own numbers and categories; for multi-modal tables",
        needs=("scipy",),
    )
)
register(
    ModelInfo(
        "cart",
        "synthgen.models.cart:CART",
        "Sequential decision trees (synthpop's CART), with privacy guards; the most faithful",
        needs=("sklearn",),
    )
)
register(
    ModelInfo(
        "ctgan",
        "synthgen.models.ctgan:CTGAN",
        "Conditional tabular GAN (Xu et al. 2019), fast on a CPU, stopped on quality",
        needs=("torch",),
        extra="ctgan",
    )
)

# SDV's synthesizers as peers (synthgen.models.sdv): SDV's own code and licence, for comparison.
for _name, _cls, _what in (
    ("sdv-gaussian-copula", "SdvGaussianCopula", "GaussianCopulaSynthesizer"),
    ("sdv-ctgan", "SdvCTGAN", "CTGANSynthesizer"),
    ("sdv-tvae", "SdvTVAE", "TVAESynthesizer"),
    ("sdv-copulagan", "SdvCopulaGAN", "CopulaGANSynthesizer"),
):
    register(
        ModelInfo(
            _name,
            f"synthgen.models.sdv:{_cls}",
            f"SDV 2.0's {_what}, behind synthgen's schema",
            needs=("sdv",),
            extra="sdv",
            licence="Business Source License 1.1 (SDV)",
        )
    )

__all__ = ["REGISTRY", "ModelInfo", "Synthesizer", "create", "model_class", "register"]
