"""CTGAN, the conditional tabular GAN of Xu et al. 2019, as a package of one idea per file:

- `model`: the `CTGAN` class that ties them, with the account of the model (the paper, what
  differs from it, and what each difference measured);
- `modes`: mode-specific normalisation, the column encoding of numbers;
- `layout`: the parts the generator makes and is conditioned on, and where they sit;
- `networks`: the generator, the critic and the optimiser (torch);
- `conditioning`: the conditional vector, training-by-sampling and the classes of `by`;
- `sampling`: rows from the generator;
- `training`: the WGAN-GP loop and its early stopping on a scoring function;
- `state`: the model file's state and its checks.

Torch is imported only inside functions: importing this package does not import it.

Example:
    >>> from synthgen.models.ctgan import CTGAN
    >>> CTGAN(epochs=10).name
    'ctgan'
"""

from synthgen.models.ctgan.model import CTGAN

__all__ = ["CTGAN"]
