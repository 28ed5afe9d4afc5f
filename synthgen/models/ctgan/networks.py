"""CTGAN's networks, in torch: the residual generator, the PacGAN critic, the optimiser, and the
activations that turn the generator's output into rows (tanh for alphas, gumbel-softmax for
modes and categories).

The torch modules are defined on first use (`nets()`), so that importing synthgen never imports
torch.

Example:
    >>> import torch
    >>> Generator, Critic, Adam = nets()
    >>> net = Generator(8, 3, (16,), 5)
    >>> net(torch.zeros(4, 8), torch.tensor([0, 1, 2, 0])).shape
    torch.Size([4, 5])
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from synthgen.models.ctgan.layout import Layout


@functools.cache
def nets() -> Any:
    """The torch modules, defined on first use so that importing synthgen never imports torch."""
    import torch
    from torch import nn

    class CondLinear(nn.Module):
        """FC over [h, condition one-hots] with the one-hot columns taken by index: the same
        function as the paper's FC over the concatenation, without multiplying by zeros.

        `x` is (rows * pac, width_in); each group of `pac` rows is one input of width
        pac * (width_in + n_cond), as in the PacGAN critic (pac 1 for the generator)."""

        def __init__(self, width_in: int, n_cond: int, width_out: int, pac: int = 1):
            super().__init__()
            self.pac, self.n_cond = pac, n_cond
            # nn.Linear's initialisation over the full fan-in, one-hots included
            bound = 1 / np.sqrt(pac * (width_in + n_cond))
            self.weight = nn.Parameter(
                torch.empty(width_out, pac * width_in).uniform_(-bound, bound)
            )
            self.bias = nn.Parameter(torch.empty(width_out).uniform_(-bound, bound))
            self.cond = nn.Parameter(torch.empty(pac * n_cond, width_out).uniform_(-bound, bound))

        def forward(self, x: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
            # embedding, not self.cond[g]: indexing's gradient is summed from every thread at
            # once (atomic adds, in no fixed order) once it has 32,768 numbers, so two fits of a
            # seed on 2 threads wrote other weights; embedding's sums each row in row order
            out = nn.functional.linear(x.reshape(-1, self.weight.shape[1]), self.weight, self.bias)
            if g is None:
                return out
            if g.ndim == 2 and self.pac == 1:  # several conditions at once: their rows summed
                return out + nn.functional.embedding(g, self.cond).sum(dim=1)
            if g.ndim == 2:  # the critic's groups of pac rows, each with several conditions
                slot = (torch.arange(len(g), device=g.device) % self.pac * self.n_cond)[:, None]
                return out + nn.functional.embedding_bag(
                    (g + slot).view(-1, self.pac * g.shape[1]), self.cond, mode="sum"
                )
            if self.pac == 1:
                return out + nn.functional.embedding(g, self.cond)
            slot = torch.arange(len(g), device=g.device) % self.pac * self.n_cond
            return out + nn.functional.embedding_bag(
                (g + slot).view(-1, self.pac), self.cond, mode="sum"
            )

    class Generator(nn.Module):
        """The paper's residual generator: h_{i+1} = h_i + ReLU(BN(FC(h_i))) (concatenated),
        from h_0 = z + condition; one output per alpha and one logit per mode and category."""

        def __init__(self, width_in: int, n_cond: int, dims: tuple[int, ...], width_out: int):
            super().__init__()
            self.fcs = nn.ModuleList()
            self.bns = nn.ModuleList()
            for d in dims:
                self.fcs.append(CondLinear(width_in, n_cond, d))
                self.bns.append(nn.BatchNorm1d(d))
                width_in += d
            self.out = CondLinear(width_in, n_cond, width_out)

        def forward(self, z: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
            h = z
            for fc, bn in zip(self.fcs, self.bns):
                h = torch.cat([h, torch.relu(bn(fc(h, g)))], dim=1)
            return self.out(h, g)

    class LeakyDropout(nn.Module):
        """LeakyReLU(0.2) then dropout(p), as one product h * f with f = mask * (1 or 0.2) by the
        sign of h: the same function and derivatives (both are piecewise linear), in a third of
        the operations, and with a uniform draw (torch's bernoulli_ is slow on a CPU)."""

        def __init__(self, p: float):
            super().__init__()
            self.p = p

        def forward(self, h: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                factor = torch.where(h > 0, 1.0, 0.2)
                if self.training:
                    factor.mul_(torch.rand_like(h).ge_(self.p)).mul_(1 / (1 - self.p))
            return h * factor

    class Critic(nn.Module):
        """PacGAN critic: `pac` rows with their conditions side by side make one input;
        LeakyReLU(0.2) and dropout 0.5 after each hidden layer."""

        def __init__(self, width_in: int, n_cond: int, dims: tuple[int, ...], pac: int):
            super().__init__()
            self.first = CondLinear(width_in, n_cond, dims[0], pac)
            layers: list[nn.Module] = [LeakyDropout(0.5)]
            for a, b in zip(dims, dims[1:]):
                layers += [nn.Linear(a, b), LeakyDropout(0.5)]
            layers.append(nn.Linear(dims[-1], 1))
            self.rest = nn.Sequential(*layers)

        def forward(self, x: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
            return self.rest(self.first(x, g))

    class Adam:
        """Adam with L2 weight decay, as torch.optim.Adam computes it, without torch.optim: its
        first use imports torch._dynamo, seconds before the first epoch. One fused kernel for
        all parameters where torch has it (5x faster than a loop on a CPU)."""

        def __init__(
            self,
            params: Any,
            lr: float = 2e-4,
            betas: tuple[float, float] = (0.5, 0.9),
            weight_decay: float = 1e-6,
            eps: float = 1e-8,
        ):
            self.params = list(params)
            self.lr, self.betas, self.weight_decay, self.eps = lr, betas, weight_decay, eps
            self.first = [torch.zeros_like(p) for p in self.params]
            self.second = [torch.zeros_like(p) for p in self.params]
            self.steps = 0
            self.counts = [torch.zeros((), device=p.device) for p in self.params]
            self.fused = hasattr(torch, "_fused_adam_")

        def zero_grad(self) -> None:
            for p in self.params:
                p.grad = None

        @torch.no_grad()
        def step(self) -> None:
            self.steps += 1
            b1, b2 = self.betas
            # a parameter no forward pass reads has no gradient and stays: the conditions'
            # weights of a table with no discrete column (every number, no nulls)
            on = [i for i, p in enumerate(self.params) if p.grad is not None]
            params = [self.params[i] for i in on]
            first, second = [self.first[i] for i in on], [self.second[i] for i in on]
            if self.fused:
                counts = [self.counts[i] for i in on]
                for c in counts:
                    c.fill_(self.steps)
                torch._fused_adam_(
                    params,
                    [p.grad for p in params],
                    first,
                    second,
                    [],
                    counts,
                    lr=self.lr,
                    beta1=b1,
                    beta2=b2,
                    weight_decay=self.weight_decay,
                    eps=self.eps,
                    amsgrad=False,
                    maximize=False,
                )
                return
            step_size = self.lr / (1 - b1**self.steps)
            root = (1 - b2**self.steps) ** 0.5
            for p, m, v in zip(params, first, second):
                g = p.grad.add(p, alpha=self.weight_decay)
                m.lerp_(g, 1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                p.addcdiv_(m, v.sqrt().div_(root).add_(self.eps), value=-step_size)

    return Generator, Critic, Adam


def activate(logits: Any, layout: Layout, tau: float) -> Any:
    """tanh for the alphas; gumbel-softmax for modes and categories, one softmax per run of
    spans of one width."""
    import torch

    n = len(logits)
    onehot = (logits[:, layout.p :] + gumbel((n, layout.n_onehot), logits.device)) / tau
    out = [torch.tanh(logits[:, : layout.p])]
    for start, end, w in layout.runs:
        out.append(torch.softmax(onehot[:, start:end].reshape(n, -1, w), dim=2).reshape(n, -1))
    return torch.cat(out, dim=1)


def gumbel(shape: Any, device: Any, gen: Any = None) -> Any:
    """Standard Gumbel noise, -log(-log(U)) (faster on a CPU than torch's exponential_)."""
    import torch

    u = torch.rand(shape, device=device, generator=gen).clamp_(min=1e-12)
    return u.log_().neg_().log_().neg_()


def span_grid(onehot: Any, pad: Any, index: Any) -> Any:
    """One-hot logits (rows, n_onehot) in the padded (rows, spans, width) grid of `index`, -inf
    in the padding."""
    return with_padding(onehot, pad)[:, index]


def with_padding(onehot: Any, pad: Any) -> Any:
    """The one-hot logits with a last column of -inf, where padding points."""
    import torch

    return torch.cat([onehot, pad.expand(len(onehot), 1)], dim=1)
