"""CTGAN's training: the WGAN-GP loop of the paper with training-by-sampling, and early stopping
on a scoring function.

Every step draws a batch's conditions and real rows (`CondSampler`, and with `by` the row's
class and range as well), the generator's fakes, the critic's update with its gradient penalty,
and the generator's update: the critic's judgement, the cross-entropy of each conditioned part
and, with ranges, the distance by which a number lies outside its asked range (`range_loss`).

Early stopping takes `score`, a function of a decoded sample (higher is better): every few
epochs a sample of `SCORE_ROWS` rows is scored, the best generator is kept, and training stops
once `patience` epochs, and the second half of the run, brought no better score (never before
half the epochs asked for). The model builds its default, the fidelity score against the
validation rows, from `synthgen.compare.fidelity`; training knows only the function.

Example:
    >>> batch_size(None, 700, 10)
    110
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from synthgen.models.ctgan.conditioning import CondSampler
from synthgen.models.ctgan.networks import activate, nets, with_padding
from synthgen.models.ctgan.sampling import generate

if TYPE_CHECKING:
    import pandas as pd

    from synthgen.models.ctgan.layout import Layout
    from synthgen.models.ctgan.model import CTGAN

# Rows per step by default (the paper's), and the fewest steps an epoch of a small table takes
DEFAULT_BATCH, MIN_STEPS = 500, 6
# Early stopping's validation split: 10% of the rows, within these bounds (none below the minimum)
MIN_VALIDATION_ROWS, MAX_VALIDATION_ROWS = 40, 2_000
# Rows of each sample early stopping scores
SCORE_ROWS = 2_000


def batch_size(requested: int | None, rows: int, pac: int) -> int:
    """The rows per step: `requested`, or by default 500 made smaller so that an epoch has at
    least `MIN_STEPS` steps (not below 10 pac groups); never above the rows there are.

    Example:
        >>> batch_size(None, 30_000, 10), batch_size(None, 700, 10), batch_size(200, 700, 10)
        (500, 110, 200)
    """
    if requested is None:
        requested = min(DEFAULT_BATCH // pac, max(10, rows // MIN_STEPS // pac)) * pac
    return min(requested, max(pac, rows // pac * pac))


def range_loss(model: CTGAN, layout: Layout, device: Any) -> Callable[..., Any]:
    """A function of a batch of fakes and its third conditions (a range's position in the
    conditional vector, or "none"): the mean distance (in the number's own spread) by which
    each conditioned number's expected value, under its mode probabilities, lies outside the
    asked range; 0 for rows without a range."""
    import torch

    n_ranges = len(model.range_edges_)
    offsets = torch.as_tensor(layout.cond_offsets[layout.q : layout.q + n_ranges], device=device)
    no_range = layout.cond_width - 1
    moded = model._mode_columns().tolist()
    cols = [moded.index(j) for j in model.range_columns_.tolist()]
    width = int(max(model.mode_counts_[cols]))
    means = np.zeros((len(cols), width))
    stds = np.zeros((len(cols), width))
    mode_cols = np.zeros((len(cols), width), dtype=np.int64)
    for r, i in enumerate(cols):
        k = int(model.mode_counts_[i])
        means[r, :k], stds[r, :k] = model.mode_means_[i, :k], model.mode_stds_[i, :k]
        mode_cols[r, :k] = layout.p + layout.offsets[i] + np.arange(k)
        mode_cols[r, k:] = mode_cols[r, 0]  # padding: a mode with weight 0 below
    weight = (np.arange(width)[None, :] < model.mode_counts_[cols][:, None]).astype(float)
    bounds = [np.concatenate([[-np.inf], e, [np.inf]]) for e in model.range_edges_]
    low = np.full((len(cols), max(len(b) for b in bounds) - 1), -np.inf)
    high = np.full_like(low, np.inf)
    for r, b in enumerate(bounds):
        low[r, : len(b) - 1], high[r, : len(b) - 1] = b[:-1], b[1:]
    spread = np.array([max(float(np.ptp(e)), 1e-9) for e in model.range_edges_])
    t = {
        name: torch.as_tensor(a, dtype=torch.float32, device=device)
        for name, a in dict(
            means=means, stds=stds, weight=weight, low=low, high=high, spread=spread
        ).items()
    }
    mode_cols_t = torch.as_tensor(mode_cols, device=device)
    alpha_cols = torch.as_tensor(cols, device=device)

    def loss(fake: Any, third: Any) -> Any:
        given = third != no_range
        at = torch.where(given, third, offsets[0])
        which = torch.searchsorted(offsets, at, right=True) - 1  # the number
        rng = at - offsets[which]  # and its range
        probs = fake.gather(1, mode_cols_t[which]) * t["weight"][which]
        alpha = fake.gather(1, alpha_cols[which][:, None])
        value = (probs * (t["means"][which] + 4 * t["stds"][which] * alpha)).sum(dim=1)
        value = value / probs.sum(dim=1).clamp_min(1e-9)
        low, high = t["low"][which, rng], t["high"][which, rng]
        out = torch.relu(low - value) + torch.relu(value - high)
        out = torch.nan_to_num(out / t["spread"][which], posinf=0.0)
        return (out * given).sum() / len(given)

    return loss


def _sample_score(
    model: CTGAN,
    net: Any,
    layout: Layout,
    score: Callable[[pd.DataFrame], float],
    frequencies: list[np.ndarray],
) -> float:
    """`score` of a decoded sample of `SCORE_ROWS` rows from the generator."""
    import torch

    # the same noise at every evaluation, so that scores differ by the generator only
    gen = torch.Generator(device=next(net.parameters()).device)
    gen.manual_seed(model.seed_)
    net.eval()
    encoded = generate(model, net, layout, SCORE_ROWS, gen, frequencies)
    net.train()
    return float(score(model.encoder_.decode(encoded, seed=model.seed_)))


def train(
    model: CTGAN,
    layout: Layout,
    rows_np: np.ndarray,
    codes: np.ndarray,
    device: Any,
    score: Callable[[pd.DataFrame], float] | None,
    ranges: np.ndarray | None = None,
) -> None:
    """The WGAN-GP loop of the paper, stopped early on `score` of the generator's samples
    (higher is better; None: every epoch runs)."""
    import torch
    import torch.nn.functional as F

    _, critic_cls, adam_cls = nets()
    n = len(rows_np)
    pac = model.pac
    batch = model.batch_size_
    steps = max(1, n // batch)
    rows = torch.as_tensor(rows_np, device=device)
    log_freq = [np.log1p(c) for c in model.category_counts_]
    sampler = CondSampler(codes, layout, [f / f.sum() for f in log_freq], device)
    net = model._generator(layout, device)
    critic = critic_cls(layout.width, layout.cond_width, model.discriminator_dim, pac).to(device)
    opt_g, opt_d = adam_cls(net.parameters(), model.lr), adam_cls(critic.parameters(), model.lr)
    pad = torch.full((1, 1), float("-inf"), device=device)
    index = torch.as_tensor(layout.grid_index, device=device)
    groups = batch // pac

    by = model.by_part_ if layout.q > 1 else None
    codes_t = torch.as_tensor(codes, device=device) if by is not None else None
    n_ranges = len(model.range_edges_)
    if n_ranges:
        ranges_t = torch.as_tensor(ranges, device=device)
        range_offsets = torch.as_tensor(
            layout.cond_offsets[layout.q : layout.q + n_ranges], device=device
        )
        no_range = layout.cond_width - 1
        value_of = range_loss(model, layout, device)

    def conditions() -> tuple[Any, Any, Any, Any]:
        """The conditions of a batch and its real rows. With `by`, every row has two: the
        paper's (a part, a category by log-frequency), and the real row's class of `by`, or,
        where the paper's part was `by` itself, the row's category of another part drawn
        uniformly; the generator pays the cross-entropy of both."""
        if not layout.q:
            return None, None, None, None
        g, part, category = sampler.conditions(batch)
        if by is None:  # the real rows are drawn after the noise, as always
            return g, part, category, None
        picked = sampler.rows(g)
        other = torch.randint(layout.q - 1, (batch,), device=device)
        other = other + (other >= by).long()
        second = torch.where(part == by, other, torch.full_like(part, by))
        second_category = codes_t[picked, second]
        g = torch.stack([g, sampler.cond_offsets[second] + second_category], dim=1)
        if n_ranges:  # half the rows: the real row's range of a random number; else "none"
            which = torch.randint(n_ranges, (batch,), device=device)
            third = range_offsets[which] + ranges_t[picked, which]
            use = torch.rand(batch, device=device) < 0.5
            third = torch.where(use, third, no_range)
            g = torch.cat([g, third[:, None]], dim=1)
        return (
            g,
            torch.stack([part, second], dim=1),
            torch.stack([category, second_category], dim=1),
            picked,
        )

    eval_every = max(1, min(5, model.epochs // 20))
    frequencies = model._frequencies()
    best, best_state = -np.inf, None
    model.chosen_epoch_ = model.epochs
    for epoch in range(1, model.epochs + 1):
        g_total = torch.zeros((), device=device)
        d_total = torch.zeros((), device=device)
        for _ in range(steps):
            # One batch of fakes serves both updates: the critic's (detached), then the
            # generator's, through the updated critic. The paper draws fresh fakes for the
            # generator; reusing them saves a quarter of the generator's work per step, with the
            # same quality measured on titanic (4 seeds).
            g, part, category, picked = conditions()
            z = torch.randn(batch, model.embedding_dim, device=device)
            logits = net(z, g)
            fake = activate(logits, layout, 0.2)
            if picked is None:
                picked = sampler.rows(g) if layout.q else torch.randint(n, (batch,), device=device)
            real = rows[picked]
            # the gradient penalty on points between real and fake rows (same conditions)
            mix = torch.rand(groups, 1, 1, device=device)
            mixed = mix * real.view(groups, pac, -1) + (1 - mix) * fake.detach().view(
                groups, pac, -1
            )
            mixed = mixed.view(batch, -1).requires_grad_(True)
            grad = torch.autograd.grad(critic(mixed, g).sum(), mixed, create_graph=True)[0]
            penalty = ((grad.view(groups, -1).norm(2, dim=1) - 1) ** 2).mean()
            both = None if g is None else torch.cat([g, g])
            judged = critic(torch.cat([fake.detach(), real]), both)
            judged = judged.view(2, -1)
            loss_d = judged[0].mean() - judged[1].mean() + 10.0 * penalty
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            critic.requires_grad_(False)
            loss_g = -critic(fake, g).mean()
            critic.requires_grad_(True)
            if layout.q:
                padded = with_padding(logits[:, layout.p :], pad)
                for t in range(1 if part.ndim == 1 else part.shape[1]):
                    on, cat = (part, category) if part.ndim == 1 else (part[:, t], category[:, t])
                    span = padded.gather(1, index[layout.p + on])
                    loss_g = loss_g + F.cross_entropy(span, cat)
            if n_ranges:  # the range's counterpart of the cross-entropy: the value's distance out
                loss_g = loss_g + value_of(fake, g[:, 2])
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            g_total += loss_g.detach()
            d_total += loss_d.detach()
        losses = {"generator": float(g_total) / steps, "discriminator": float(d_total) / steps}
        model.generator_loss_.append(losses["generator"])
        model.discriminator_loss_.append(losses["discriminator"])
        stop = False
        if score is not None and (epoch % eval_every == 0 or epoch == model.epochs):
            scored = _sample_score(model, net, layout, score, frequencies)
            losses["validation"] = scored
            model.validation_.append((epoch, scored))
            if scored > best:
                best, model.chosen_epoch_ = scored, epoch
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                # A GAN's quality plateaus and climbs again (titanic: flat from epoch 45 to 200,
                # then up from 0.80 to 0.85), so a stop also waits for as many epochs as the best
                # one took: it stops only once the second half of the run brought nothing.
                # Nor before half the epochs asked for: with a lucky early best (adult with
                # derived parts: 0.831 at epoch 5) the rule above stopped at 35 epochs and
                # kept epoch 5, while the run climbs to 0.88 by epoch 95.
                waited = epoch - model.chosen_epoch_
                stop = waited >= max(model.patience, epoch / 2) and epoch >= model.epochs / 2
        if model.on_epoch is not None:
            model.on_epoch(epoch, model.epochs, losses)
        if stop:
            break
    if score is None:
        model.chosen_epoch_ = len(model.generator_loss_)
    elif best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    model.generator_state_ = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    model._generator_net = net
