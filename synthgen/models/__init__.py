"""The models synthgen can fit. A new model is one module here plus one `register` line below,
which names its options and its fast settings (see `synthgen.models.registry.ModelInfo`).

Only the registry is imported here (`synthgen --help` reads it); `Synthesizer` loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synthgen.models.registry import REGISTRY, ModelInfo, create, model_class, register

if TYPE_CHECKING:
    from synthgen.models.base import Synthesizer

# What `--by` does for the models that fit each class of it on its own rows.
_BY_CLASS = "each of its classes gets a model of its own rows"
# What `--allow-copies` does for the models that guard copies (each its own way).
_COPIES = "default: drawn again"

register(
    ModelInfo(
        "gaussian-copula",
        "synthgen.models.copula:GaussianCopula",
        "Empirical marginals joined by a Gaussian copula; fast, a strong default",
        needs=("scipy",),
        options={"by": _BY_CLASS, "allow_copies": _COPIES},
        fast_params={},
    )
)
register(
    ModelInfo(
        "gmm",
        "synthgen.models.gmm:GaussianMixture",
        "Mixture of clusters, each with its own numbers and categories; for multi-modal tables",
        needs=("scipy",),
        options={
            "components": "default: chosen on held-out rows",
            "by": _BY_CLASS,
            "allow_copies": _COPIES,
        },
        fast_params={"max_components": 6, "max_iter": 30},
    )
)
register(
    ModelInfo(
        "gmm-gaussian",
        "synthgen.models.gmm_gaussian:GaussianMixtureFull",
        "The Gaussian mixture of synthgen 0.1 (full covariance over numbers per component): "
        "for tables of correlated numbers",
        needs=("scipy",),
        options={
            "components": "default: chosen on held-out rows",
            "by": _BY_CLASS,
            "allow_copies": _COPIES,
        },
        fast_params={"max_components": 6, "max_iter": 30},
    )
)
register(
    ModelInfo(
        "cart",
        "synthgen.models.cart:CART",
        "Sequential decision trees (synthpop's CART), with privacy guards; the most faithful",
        needs=("sklearn",),
        options={
            "min_leaf": (
                "default 20, a tenth of a smaller table, half that in a tree whose column the "
                "earlier ones predict closely; given, it holds in every tree"
            ),
            "smoothing": "default 1",
            "split_alpha": "default 0.05: every split under 600 rows, else sparse categories",
            "allow_copies": _COPIES,
            "order": "",
        },
        fast_params={},
    )
)
register(
    ModelInfo(
        "ctgan",
        "synthgen.models.ctgan:CTGAN",
        "Conditional tabular GAN (Xu et al. 2019), fast on a CPU, stopped on quality",
        needs=("torch",),
        extra="ctgan",
        options={
            "epochs": "",
            "batch_size": "",
            "device": "",
            "early_stop": "",
            "by": "every training step is told the row's class",
            "allow_copies": _COPIES,
        },
        # small networks, batches of 40 of the 400 rows, a larger learning rate: 2,000 steps
        # (the margins they keep across fit seeds: tests/test_contract.py)
        fast_params={
            "epochs": 200,
            "batch_size": 40,
            "pac": 4,
            "lr": 1e-3,
            "embedding_dim": 32,
            "generator_dim": (64, 64),
            "discriminator_dim": (64, 64),
            "early_stop": False,
            "threads": 1,
        },
    )
)
_DP_OPTIONS = {
    "epsilon": "default 1",
    "delta": "default 1e-6",
    "domain_share": "default 0.1, when a column's domain or shape must be found",
}
# AIM's rounds pick marginals by the exponential mechanism: at epsilon 100 it measures cliques
# of several columns and takes minutes; MST's tree is fixed by the data at any budget.
_DP_FAST = {"aim": {"epsilon": 10.0, "iters": 1000}, "mst": {"epsilon": 100.0, "iters": 3000}}
for _name, _cls, _what in (
    ("aim", "AIM", "AIM (McKenna et al. 2022): marginals chosen where the model errs most"),
    ("mst", "MST", "MST (McKenna et al. 2021, NIST 2018 winner): a spanning tree of pairs"),
):
    register(
        ModelInfo(
            _name,
            f"synthgen.models.dp.model:{_cls}",
            f"Differentially private: {_what}",
            needs=("opendp", "mbi", "polars", "jax"),
            extra="dp",
            options=_DP_OPTIONS,
            # a generous budget, so that what is tested is synthgen's wrapping and not the
            # noise, and estimates long enough to converge on the 400-row table (see tests/
            # test_contract.py's margins)
            fast_params=_DP_FAST[_name],
        )
    )

# SDV's synthesizers as peers (synthgen.models.sdv): SDV's own code and licence, for comparison.
# Their options are SDV's, checked against its signature when the model is made; their fast
# settings train SDV's networks for one epoch (what is tested is synthgen's wrapping of SDV).
for _name, _cls, _what, _fast in (
    ("sdv-gaussian-copula", "SdvGaussianCopula", "GaussianCopulaSynthesizer", {}),
    ("sdv-ctgan", "SdvCTGAN", "CTGANSynthesizer", {"epochs": 1}),
    ("sdv-tvae", "SdvTVAE", "TVAESynthesizer", {"epochs": 1}),
    ("sdv-copulagan", "SdvCopulaGAN", "CopulaGANSynthesizer", {"epochs": 1}),
):
    register(
        ModelInfo(
            _name,
            f"synthgen.models.sdv:{_cls}",
            f"SDV 2.0's {_what}, behind synthgen's schema",
            needs=("sdv",),
            extra="sdv",
            licence="Business Source License 1.1 (SDV)",
            fast_params=_fast,
        )
    )


def __getattr__(name: str) -> Any:
    # the contract's base class pulls in numpy and pandas: loaded only when asked for
    if name == "Synthesizer":
        from synthgen.models.base import Synthesizer

        return Synthesizer
    raise AttributeError(f"module 'synthgen.models' has no attribute {name!r}")


__all__ = ["REGISTRY", "ModelInfo", "Synthesizer", "create", "model_class", "register"]
