"""Sequential trees (CART), after synthpop (Nowok, Raab & Dibben 2016), made private.

The encoded parts are synthesised one after another. The first is drawn from its marginal; each
later part from a decision tree fitted on the parts before it: a synthetic row walks down the tree
on the values it already has, and takes the value of a real row of the leaf it lands in (numbers
moved by a Gaussian kernel where few rows hold them, see below). Discrete parts (categories,
booleans, null indicators) use a classification tree and the leaf's code counts; continuous parts
a regression tree and the leaf's sorted values. A tree splits an earlier category of 3 or more
codes in the order of its codes' mean target (`code_ranks`), not in code order. Trees are
scikit-learn's, stored as their arrays (children, split feature, threshold) and leaf pools.

A part that is a function of an earlier category on the training rows (education-num of
education; `_source`) is looked up: its tree splits on that category alone, down to pure leaves.

Privacy by construction:

- every leaf holds at least `min_leaf` real rows (20 by default; a category of more than
  `_MANY_CODES` codes is drawn from leaves half as large again), so a value is always drawn from a
  crowd. Unless `min_leaf` is given, a tree whose column the earlier ones predict closely (a
  series' value of its date) has leaves of half that (`cart_leaves`: where held-out rows say
  half the crowd predicts clearly better);
- a number fewer than `_CROWD` training rows hold in its column is moved by Gaussian noise of
  `smoothing` times half the span of its `_CROWD` nearest rows' values: isolated values (the
  tails, where a value can name a person) are blurred in proportion to their isolation, while
  values many rows share (a spike at zero, 40 hours a week, a fare of 7.25) stay exact. Isolation
  in the whole column, not in the leaf: with leaves of 20 rows most values are alone in theirs, and
  blurring them smeared the spikes a classifier tells synthetic rows by (field protocol, C2ST at
  leaves of 20: adult 0.831 blurred in the leaf, 0.914 in the column; diamonds 0.926 and 0.994);
  a leaf-wide bandwidth (Silverman's, as synthpop's) spreads the spikes of zero-inflated columns
  and cost 0.026 of fidelity on adult;
- a split stays only where the rows support it (`split_alpha`, `cart_splits`): on a table under
  600 rows every split is tested, on a larger one the splits on a category whose codes hold
  fewer rows than a leaf; a split that follows chance (which rows the holdout took) draws rows
  nearer the training rows than new ones;
- a fit checks how near its drawn rows come to the training rows (`cart_blur.nearness`): on a
  table of few columns a drawn row all but repeats the training row it took its last number
  from, and the numbers are then blurred by a share of their leaf's spread (`leaf_blur_`);
- categories seen in fewer than `rare_threshold` rows are never written (their rows are learned
  with stand-ins, `synthgen.columns.stand_ins`);
- synthetic rows identical to a training row that no other training row repeats (over the
  columns as they will be written, those rules decide as computed) are drawn again, unless
  `allow_copies`. A row two or more training rows hold is kept as drawn, up to as many copies
  as the training rows repeat one another (`copies_kept_`, the share of such draws kept,
  measured on 500 rows at fit; `cart_copies`): it stays among the training rows whoever is
  taken out of them, so writing it tells of no one's presence, and on a table of coarse
  columns new people are such rows (fair: 23% of held-out rows repeat a training row; drawing
  them all again cost C2ST 0.892 -> 0.714).
  The model file holds no exact fingerprint of a row for this: each row leaves a hash of
  `ceil(log2(rows)) + 3` bits, so a stored hash matches about one possible row in 8 to 16, and a
  row that matches one proves nothing (a redraw of that share of rows is the price).

Conditioning (`where`, `balance`, `fill`): rows are drawn along the trees as usual, but a
conditioned part draws only from the allowed part of its leaf's pool; the row's weight is the
product of the allowed shares. Shared conditions accept a row with probability weight / bound
(bound: the product of the largest allowed share of any leaf), which makes the kept rows exact
draws from the model given the condition; rows to fill choose among `_FILL_DRAWS` candidates each
in proportion to their weights (importance resampling).

Example:
    >>> import numpy as np, pandas as pd, synthgen
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(0, 3, 600)
    >>> table = pd.DataFrame({"a": np.array(["p", "q", "r"])[x], "b": x * 10 + rng.normal(0, 1, 600)})
    >>> model = synthgen.fit(table, model="cart", seed=0)
    >>> out = model.sample(1000, seed=1)
    >>> bool((out.loc[out["a"] == "r", "b"] > 15).mean() > 0.95)
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from synthgen.columns import Encoded
from synthgen.columns.base import check_hashes, hash_bits
from synthgen.errors import ConditionError, UsageError, option
from synthgen.models import cart_copies, checks
from synthgen.models.base import Synthesizer
from synthgen.models.cart_blur import (
    BLURS,
    CHECK_ROWS,
    NEAR,
    TRAIN_ROWS,
    isolation,
    leaf_floor,
    leaf_gaps,
    nearness,
)
from synthgen.models.cart_copies import row_hashes, unique_and_common
from synthgen.models.cart_leaves import fitted, guard, leaf_size
from synthgen.models.cart_splits import code_ranks, pruned, ranked, ranks_fit, split_kept

if TYPE_CHECKING:
    from synthgen.conditions import Constraints

_MAX_LEAF = 20  # the default least rows per leaf, for tables of 200 rows and more
# Below this many rows every split is tested by default (cart_splits): there a classifier sees
# too few rows to miss the chance splits, and those splits draw rows nearer the training rows
# than new ones (eleven small real tables: DCR share 0.557 -> 0.534, C2ST 0.998 -> 0.988). On
# larger tables the splits carry detail it does see (every split tested: titanic's C2ST 0.92 ->
# 0.74, taxis 0.87 -> 0.81), and only splits on a sparse category are tested: one whose codes
# hold fewer rows than a leaf on average, so that the tree can only pool them in the order of
# their mean, mostly chance there (gapminder's 142 countries of 10 rows: DCR share 0.588 ->
# 0.548, C2ST 1.00 either way; no split of the four shared tables is of that kind).
_PRUNE_ROWS = 600
_SPLIT_ALPHA = 0.05  # the level of the tests by default
EVERY_SPLIT, SPARSE_CATEGORIES, NO_SPLIT = "every split", "sparse categories", "none"
_MANY_CODES = 20  # a category of more codes is drawn from leaves of 1.5 x min_leaf rows
_CROWD = 5  # a number at least this many training rows hold is drawn exact
_DERIVE_ROWS = 20  # a looked-up part's source has at least this many rows per category
_COPY_ROUNDS = 20  # redraws of rows that copy a training row before they are kept as they are
_SLOW_ACCEPTANCE = 0.2  # below this share of rows kept, a conditional sample suggests --order
_FILL_DRAWS = 32  # candidates per row to fill
_FILL_RETRY = 256  # more candidates for a row whose first ones all miss its given cells


class _Tree:
    """One fitted tree as arrays: `left`, `right` (-1 at leaves), `feature`, `threshold` per node,
    `leaf` (the leaf number of each node, -1 inside). Its pool: for a discrete target, `counts`
    (leaves x codes); for a continuous one, `values` sorted by leaf then value, `offsets`
    (leaves + 1), and the noise `scale` of each value (derived, not stored). `rare`: the code of
    the pooled rare categories, which a free draw takes only from a leaf holding nothing else."""

    def __init__(
        self,
        arrays: dict[str, np.ndarray],
        smoothing: float = 0.0,
        rare: int | None = None,
        blur: float = 0.0,
    ):
        self.left = np.asarray(arrays["left"], dtype=np.int64)
        self.right = np.asarray(arrays["right"], dtype=np.int64)
        self.feature = np.asarray(arrays["feature"], dtype=np.int64)
        self.threshold = np.asarray(arrays["threshold"], dtype=float)
        self.leaf = np.asarray(arrays["leaf"], dtype=np.int64)
        self.n_leaves = int(self.leaf.max()) + 1 if len(self.leaf) else 0
        # the rank of each code of a category split on (a row per earlier part; -1: as it is)
        self.ranks = arrays.get("ranks")
        if self.ranks is not None:
            self.ranks = np.asarray(self.ranks, dtype=np.int64)
            if self.ranks.ndim != 2:
                raise ValueError("a tree's category ranks are not a table")
        checks.finite("cart: a tree's thresholds", self.threshold)
        checks.permutation("cart: a tree's leaf numbers", self.leaf[self.leaf >= 0], self.n_leaves)
        self.halved = False  # fitted with half the least leaf (`cart_leaves.guard`, at fit)
        self.counts = arrays.get("counts")
        if self.counts is not None:
            self.counts = np.asarray(self.counts, dtype=np.int64).reshape(self.n_leaves, -1)
            if (self.counts < 0).any() or (self.counts.sum(axis=1) < 1).any():
                raise ValueError("a tree leaf holds no rows")
            self.cum = np.cumsum(self.counts, axis=1)
            # the rare pool decodes to a shared category drawn blind to the row; drawn from the
            # leaf instead, the row keeps a category its other columns fit (taxis: the rare
            # zones' rows went to Manhattan, the Bronx had 23 trips of 75)
            free = self.counts
            if rare is not None and rare < free.shape[1]:
                free = free.copy()
                free[free.sum(axis=1) > free[:, rare], rare] = 0
            self.free_cum = np.cumsum(free, axis=1)
        else:
            self.values = checks.finite("cart: a tree's leaf values", arrays["values"])
            self.offsets = np.asarray(arrays["offsets"], dtype=np.int64)
            if (
                len(self.offsets) != self.n_leaves + 1
                or self.offsets[0] != 0
                or self.offsets[-1] != len(self.values)
                or (np.diff(self.offsets) < 1).any()
            ):
                raise ValueError("a tree's leaf pools do not match its leaves")
            self._keys: tuple[np.ndarray, np.ndarray] | None = None
            if (np.diff(self._leaf_keys()[1]) < 0).any():
                raise ValueError("a tree's leaf pools are not sorted")
            # the wider of the two: a value's isolation in its column (the tails) and its gap to
            # the nearest value of its leaf (a table of unique numbers, whose column neighbours
            # are so close that a drawn value all but repeats a real row); values 5 rows of the
            # column hold stay exact either way
            column = isolation(self.values, _CROWD)
            self._isolated = column > 0
            self._smoothing = smoothing
            self._base_scale = (
                smoothing
                / 2
                * np.where(
                    self._isolated, np.maximum(column, leaf_gaps(self.values, self.offsets)), 0.0
                )
            )
        self.widen(blur)
        n = len(self.left)
        inner = self.left >= 0
        if (
            len(self.right) != n
            or len(self.feature) != n
            or len(self.threshold) != n
            or len(self.leaf) != n
            or (inner & ((self.left >= n) | (self.right < 0) | (self.right >= n))).any()
            or (inner & (self.left <= np.arange(n))).any()  # children come after their parent
            or (inner & (self.right <= np.arange(n))).any()
            or ((self.leaf >= 0) == inner).any()
        ):
            raise ValueError("a tree's nodes are inconsistent")

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        discrete: int | None,
        min_leaf: int,
        smoothing: float,
        seed: int,
        source: int | None = None,
        rare: int | None = None,
        cards: list[int | None] | None = None,
        alpha: float | None = None,
        tested: list[bool] | None = None,
        choose_leaf: bool = False,
    ) -> _Tree:
        """The tree of part y on the parts before it (`x`, of cardinalities `cards`: None for a
        number); with `source`, a part y is a function of, on that part alone and down to pure
        leaves (a lookup). A category of 3 or more codes is split on in the order of its codes'
        mean y (`code_ranks`). With `alpha`, the splits on the parts `tested` marks (all when
        None) are kept only where significant at that level (`cart_splits.split_kept`)."""
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

        ranks = None
        if source is not None:
            x, min_leaf = x[:, [source]], 1
        elif cards and any((k or 0) >= 3 for k in cards):
            ranks = code_ranks(x, y, cards, discrete)
            x = ranked(x, ranks)
        chosen = leaf_size(x, y, discrete, min_leaf, seed) if source is None and choose_leaf else 0
        halved, min_leaf = 0 < chosen < min_leaf, chosen or min_leaf
        if x.shape[1] == 0:  # the first part: one leaf holding every row
            node_of_row = np.zeros(len(y), dtype=np.int64)
            arrays: dict[str, Any] = {
                "left": np.array([-1]),
                "right": np.array([-1]),
                "feature": np.array([-1]),
                "threshold": np.array([0.0]),
            }
        else:
            est = (DecisionTreeClassifier if discrete else DecisionTreeRegressor)(
                min_samples_leaf=min_leaf, random_state=seed
            )
            fitted(est, x, y)
            t = est.tree_
            arrays = {
                "left": t.children_left.astype(np.int64),
                "right": t.children_right.astype(np.int64),
                "feature": np.where(t.children_left >= 0, t.feature, -1).astype(np.int64),
                "threshold": np.where(t.children_left >= 0, t.threshold, 0.0),
            }
            node_of_row = est.apply(x).astype(np.int64)
            if alpha is not None and source is None and len(arrays["left"]) > 1:
                keep = split_kept(t, x, y, discrete, cards or [], min_leaf, alpha, tested)
                arrays, new = pruned(t, keep)
                node_of_row = new[node_of_row]
            if source is not None:
                arrays["feature"] = np.where(t.children_left >= 0, source, -1).astype(np.int64)
        if ranks is not None:
            arrays["ranks"] = ranks
        is_leaf = arrays["left"] < 0
        leaf = np.full(len(is_leaf), -1, dtype=np.int64)
        leaf[is_leaf] = np.arange(int(is_leaf.sum()))
        arrays["leaf"] = leaf
        row_leaf = leaf[node_of_row]
        n_leaves = int(is_leaf.sum())
        if discrete:
            counts = np.zeros((n_leaves, discrete), dtype=np.int64)
            np.add.at(counts, (row_leaf, y.astype(np.int64)), 1)
            arrays["counts"] = counts
        else:
            order = np.lexsort((y, row_leaf))
            sizes = np.bincount(row_leaf, minlength=n_leaves)
            offsets = np.concatenate([[0], np.cumsum(sizes)])
            values = y[order].astype(float)
            arrays.update(values=values, offsets=offsets)
        tree = cls(arrays, smoothing, rare)
        tree.halved = halved
        return tree

    def to_state(self) -> dict[str, np.ndarray]:
        out = {
            "left": self.left,
            "right": self.right,
            "feature": self.feature,
            "threshold": self.threshold,
            "leaf": self.leaf,
        }
        if self.ranks is not None:
            out["ranks"] = self.ranks
        if self.counts is not None:
            out["counts"] = self.counts
        else:
            out.update(values=self.values, offsets=self.offsets)
        return out

    def least_leaf(self) -> int:
        """The fewest training rows a leaf holds."""
        sizes = self.counts.sum(axis=1) if self.counts is not None else np.diff(self.offsets)
        return int(sizes.min()) if len(sizes) else 0

    def widen(self, blur: float) -> None:
        """Blur each number fewer than `_CROWD` rows hold by at least `blur` (times
        `smoothing`) of its leaf's standard deviation times rows^-1/5 (Silverman's rate): set
        when drawn rows come nearer the training rows than those rows lie to each other
        (`cart_blur`)."""
        if self.counts is not None:
            return
        scale = self._base_scale
        if blur > 0 and self._smoothing > 0:
            least = leaf_floor(self.values, self.offsets, blur * self._smoothing)
            scale = np.where(self._isolated, np.maximum(scale, least), 0.0)
        self.scale = scale

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """The leaf each row of `x` (the parts before this one) lands in."""
        if self.ranks is not None:
            x = ranked(x, self.ranks)
        node = np.zeros(len(x), dtype=np.int64)
        active = np.flatnonzero(self.left[node] >= 0)
        while active.size:
            at = node[active]
            go_left = x[active, self.feature[at]] <= self.threshold[at]
            node[active] = np.where(go_left, self.left[at], self.right[at])
            active = active[self.left[node[active]] >= 0]
        return self.leaf[node]

    # ---- drawing --------------------------------------------------------------------------------
    def draw(self, leaf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        u = rng.random(len(leaf))
        if self.counts is not None:
            cum = self.free_cum[leaf]
            return (cum <= (u * cum[:, -1])[:, None]).sum(axis=1)
        start, size = self.offsets[leaf], np.diff(self.offsets)[leaf]
        pick = start + np.minimum((u * size).astype(np.int64), size - 1)
        return self._smooth(pick, rng)

    def _smooth(self, pick: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = self.values[pick]
        h = self.scale[pick]
        if not h.any():
            return x
        return x + h * rng.standard_normal(len(x))

    def draw_within(
        self,
        leaf: np.ndarray,
        rng: np.random.Generator,
        allowed: np.ndarray | None = None,
        lo: np.ndarray | None = None,
        hi: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draws from the allowed part of each row's leaf pool (codes `allowed[row]`, or values
        within [lo, hi]), the share of the pool that part holds, and how far the leaf misses
        (0 where its share is > 0; else the distance from the interval to the leaf's nearest
        value, inf for codes). A row of share 0 is drawn as near as the leaf allows: a number
        at the leaf's value nearest the interval; a code, for a row to fill (`allowed` per row),
        among its allowed ones in proportion to the part's rows over all leaves, so the row
        still meets its constraints (under shared constraints, from the leaf: it is rejected)."""
        u = rng.random(len(leaf))
        if self.counts is not None:
            counts = self.counts[leaf] * allowed
            cum = np.cumsum(counts, axis=1)
            total = cum[:, -1]
            share = total / self.cum[leaf, -1]
            code = (cum <= (u * total)[:, None]).sum(axis=1)
            dead = total == 0
            if dead.any() and np.ndim(allowed) == 2:  # rows to fill keep what they draw
                code[dead] = self._draw_allowed(leaf[dead], rng, allowed[dead])
            elif dead.any():  # under a shared condition such a row is drawn again
                code[dead] = self.draw(leaf[dead], rng)
            return np.minimum(code, self.counts.shape[1] - 1), share, np.where(dead, np.inf, 0.0)
        uniq, keys = self._leaf_keys()
        base = leaf * (len(uniq) + 1)
        # a leaf's values in [lo, hi] are those whose key lies in [base + rank(lo), base + rank(hi))
        first = np.searchsorted(keys, base + np.searchsorted(uniq, lo, side="left"))
        stop = np.searchsorted(keys, base + np.searchsorted(uniq, hi, side="right"))
        size = np.diff(self.offsets)[leaf]
        width = stop - first
        share = np.maximum(width, 0) / size
        pick = first + np.minimum((u * width).astype(np.int64), np.maximum(width - 1, 0))
        dead = width <= 0
        miss = np.zeros(len(leaf))
        if dead.any():
            d_leaf, d_first = leaf[dead], first[dead]
            low, high = self.offsets[d_leaf], self.offsets[d_leaf + 1] - 1
            below = np.clip(d_first - 1, low, high)
            above = np.clip(d_first, low, high)
            lo_d = np.broadcast_to(lo, leaf.shape)[dead]
            hi_d = np.broadcast_to(hi, leaf.shape)[dead]

            def off(i):
                v = self.values[i]
                return np.maximum(np.maximum(lo_d - v, v - hi_d), 0.0)

            nearer = off(below) <= off(above)
            pick[dead] = np.where(nearer, below, above)
            miss[dead] = np.minimum(off(below), off(above))
        x = self._smooth(pick, rng)
        # kernel mass beyond a bound is reflected back inside (clipping would pile it there)
        with np.errstate(invalid="ignore"):
            x = np.where(x < lo, 2 * lo - x, x)
            x = np.where(x > hi, 2 * hi - x, x)
        return np.clip(x, lo, hi), share, miss

    def _draw_allowed(
        self, leaf: np.ndarray, rng: np.random.Generator, allowed: np.ndarray
    ) -> np.ndarray:
        """Codes for rows whose leaf holds none of their allowed codes (a third-class
        passenger's deck asked to be filled, where every third-class deck is empty): the allowed
        codes in proportion to their rows over the whole part, uniform among them if it has none;
        from the leaf where no code is allowed at all."""
        weight = allowed * self.counts.sum(axis=0)
        weight = np.where(weight.sum(axis=1, keepdims=True) > 0, weight, allowed).astype(float)
        cum = np.cumsum(weight, axis=1)
        total = cum[:, -1]
        code = (cum <= (rng.random(len(leaf)) * total)[:, None]).sum(axis=1)
        none = total == 0
        if none.any():
            code[none] = self.draw(leaf[none], rng)
        return code

    def _leaf_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """The part's distinct values, and each pooled value's key: its leaf times (distinct
        values + 1) plus its rank among them (ascending, as the pools are sorted)."""
        if self._keys is None:
            uniq, rank = np.unique(self.values, return_inverse=True)
            leaf_of_value = np.repeat(np.arange(self.n_leaves), np.diff(self.offsets))
            self._keys = (uniq, leaf_of_value * (len(uniq) + 1) + rank.reshape(-1))
        return self._keys

    def best_share(
        self, allowed: np.ndarray | None, lo: np.ndarray | None, hi: np.ndarray | None
    ) -> float:
        """The largest share of any leaf's pool allowed by shared constraints."""
        leaves = np.arange(self.n_leaves)
        if self.counts is not None:
            allowed = np.broadcast_to(allowed, (self.n_leaves, self.counts.shape[1]))
        else:
            lo, hi = np.broadcast_to(lo, leaves.shape), np.broadcast_to(hi, leaves.shape)
        _, share, _ = self.draw_within(leaves, np.random.default_rng(0), allowed, lo, hi)
        return float(share.max()) if len(share) else 0.0


class CART(Synthesizer):
    """Sequential decision trees over the columns, with leaves of at least `min_leaf` rows.

    Parameters:
        min_leaf: the least training rows in a leaf (default: 20, or a tenth of a smaller table;
            half that in a tree whose column the earlier ones predict closely, `cart_leaves`).
        smoothing: the noise on numbers fewer than 5 training rows hold, in half-spans of their
            5 nearest rows' values (0 = real values only).
        allow_copies: keep synthetic rows identical to a training row (default: draw again
            those identical to a training row no other training row repeats).
        order: columns to synthesise first, in this order (the rest follow in the table's order).
        rare_threshold: categories seen in fewer rows are never written verbatim.
        split_alpha: the p-value a tree split must reach to be kept, tested as chosen
            (`synthgen.models.cart_splits`). Default: 0.05, for every split on a table under
            600 rows and for the splits on a sparse category on a larger one; given, every
            split is tested at it (1 keeps every split).
    """

    name = "cart"
    # it draws each column given those before it (measured: a job-training table's outcome
    # follows its treatment flag only when the flag is learned too)
    learns_decided_codes = True

    def __init__(
        self,
        *,
        min_leaf: int | None = None,
        smoothing: float = 1.0,
        allow_copies: bool = False,
        order: list[str] | tuple[str, ...] | str | None = None,
        rare_threshold: int = 5,
        split_alpha: float | None = None,
    ):
        if min_leaf is not None and int(min_leaf) < 1:
            raise UsageError(f"cart: min_leaf must be at least 1, not {min_leaf}")
        if not float(smoothing) >= 0:
            raise UsageError(f"cart: smoothing must be 0 or more, not {smoothing}")
        if split_alpha is not None and not 0 < float(split_alpha) <= 1:
            raise UsageError(f"cart: split_alpha must be above 0 and at most 1, not {split_alpha}")
        if isinstance(order, str):
            order = [name.strip() for name in order.split(",") if name.strip()]
        super().__init__(
            rare_threshold=rare_threshold,
            min_leaf=None if min_leaf is None else int(min_leaf),
            smoothing=float(smoothing),
            allow_copies=bool(allow_copies),
            order=None if order is None else list(order),
            split_alpha=None if split_alpha is None else float(split_alpha),
        )
        self.min_leaf = None if min_leaf is None else int(min_leaf)
        self.smoothing = float(smoothing)
        self.allow_copies = bool(allow_copies)
        self.order = None if order is None else list(order)
        self.split_alpha = None if split_alpha is None else float(split_alpha)

    # ---- fitting ----------------------------------------------------------------------------
    def _part_order(self) -> list[int]:
        """The order the parts are synthesised in (indices into Encoded's continuous-then-
        discrete parts): the columns named in `order`, then the table's own order (synthpop's
        default); a null indicator before its value.

        A fixed order, not one chosen per table: choosing between this and "categories first"
        by the fidelity score of a sample followed noise (on diamonds two samples of 20,000 rows
        from one model score 0.929 and 0.942, the pair trends hanging on a few outlying rows),
        and under the benchmark the table's order has the better worst case (ratio to the
        holdout 0.993 against 0.979)."""
        given = self._led()

        def lead(column: str) -> int:
            return given.index(column) if column in given else len(given)

        # a stable sort: the table's order, a null indicator before its value, behind the lead
        parts = sorted(_part_columns(self.encoder_), key=lambda part: lead(part[1]))
        return [index for index, _, _ in parts]

    def _led(self) -> list[str]:
        """The modelled columns `order` names, in its order; a column rules decide stands for
        the columns modelled for it (`income` for `income\x1fcomplete`)."""
        from synthgen.rules.keepers import SEP

        names = [c.name for c in self.schema_.columns]
        led = {c: [n for n in names if n == c or n.startswith(c + SEP)] for c in self.order or []}
        if unknown := [c for c, found in led.items() if not found]:
            raise UsageError(
                f"cart: {option('--order', 'order=')} names {', '.join(map(repr, unknown))}, "
                "not a column of the table"
            )
        return [n for found in led.values() for n in found]

    def _fit_encoded(self, data: Encoded, rng: np.random.Generator) -> None:
        n = data.n_rows
        self.min_leaf_ = self.min_leaf or min(_MAX_LEAF, max(2, n // 10))
        self.split_alpha_ = self.split_alpha or _SPLIT_ALPHA
        if self.split_alpha_ >= 1:
            self.split_tests_ = NO_SPLIT
        elif self.split_alpha is None and n >= _PRUNE_ROWS:
            self.split_tests_ = SPARSE_CATEGORIES
        else:
            self.split_tests_ = EVERY_SPLIT
        self.hash_bits_ = hash_bits(n)
        self.hashes_written_ = True  # of the user's columns as written (`cart_copies`)
        full = self._hashes(data, 64)
        self.row_hashes_, self.common_hashes_ = unique_and_common(full, self.hash_bits_)
        self.repeats_ = cart_copies.repeat_share(full)
        self.copies_kept_ = 1.0
        self.order_ = self._part_order()
        x = _stack(data, self.order_, self.encoder_)
        cards = _cardinalities(self.encoder_, self.order_)
        seed = int(rng.integers(2**31))
        self.sources_ = [_source(x, j, cards) for j in range(len(self.order_))]
        # a category of many codes from a leaf of few rows names the rows' own codes: its leaves
        # are larger (taxis at leaves of 20: DCR share 0.552 with pickup zones, 0.526 without)
        leaves = [
            -(-3 * self.min_leaf_ // 2) if (card or 0) > _MANY_CODES else self.min_leaf_
            for card in cards
        ]
        rare = self._rare_codes()

        def tree(j: int, choose: bool) -> _Tree:
            source, tests = self.sources_[j], self._tests(n, cards[:j], leaves[j])
            args = (cards[j], leaves[j], self.smoothing, seed + j, source, rare[j], cards[:j])
            return _Tree.fit(x[:, :j], x[:, j], *args, *tests, choose_leaf=choose)

        self.trees_ = [tree(j, self.min_leaf is None) for j in range(len(self.sources_))]
        guard(self, lambda j: tree(j, False), full, seed)
        self.leaf_blur_ = self._blur_for_nearness(x, cards, seed)
        if not self.allow_copies:  # its own draws (seed + 2); `copy_share_`: see Synthesizer
            self.copy_share_, kept = cart_copies.drawn_copies(self, full, seed + 2)
            self.copies_kept_ = 1.0 if kept is None else kept

    def _blur_for_nearness(self, x: np.ndarray, cards: list[int | None], seed: int) -> float:
        """The least leaf blur (0, then each of `cart_blur.BLURS`) at which rows drawn from
        the trees lie as far from the training rows as those rows lie from each other; the trees
        are left at it. Its own draws (seed + 1): the trees and the rows of a table that passes
        at 0 are those of a fit without the check."""
        blurred = [t for t in self.trees_ if t.counts is None and t._isolated.any()]
        if not blurred or self.smoothing == 0 or len(x) < 2:
            return 0.0
        rng = np.random.default_rng(seed + 1)
        if len(x) > TRAIN_ROWS:
            x = x[rng.choice(len(x), TRAIN_ROWS, replace=False)]
        k = min(CHECK_ROWS, len(x))
        asked = rng.choice(len(x), k, replace=False)
        for blur in (0.0, *BLURS):
            for tree in blurred:
                tree.widen(blur)
            if nearness(self._rows(k, rng)[0], x, cards, asked) >= NEAR:
                return blur
        return BLURS[-1]

    def _tests(
        self, n: int, cards: list[int | None], leaf: int
    ) -> tuple[float | None, list[bool] | None]:
        """The level a tree's splits are tested at (None: none is) and which of the parts before
        it they are tested on (None: all)."""
        if self.split_tests_ == EVERY_SPLIT:
            return self.split_alpha_, None
        if self.split_tests_ == NO_SPLIT:
            return None, None
        sparse = [(k or 0) >= 3 and n / k < leaf for k in cards]
        return (self.split_alpha_, sparse) if any(sparse) else (None, None)

    def _rare_codes(self) -> list[int | None]:
        """The rare pool's code of each part in synthesis order (None: no pool)."""
        from synthgen.conditions import targets

        n_cont = len(self.encoder_.continuous_parts)
        code = {
            n_cont + t.value: t.rare_code
            for t in targets(self.encoder_).values()
            if t.value is not None and t.discrete
        }
        return [code.get(part) for part in self.order_]

    # ---- copies -----------------------------------------------------------------------------
    def _hashes(self, data: Encoded, bits: int | None = None) -> np.ndarray:
        """A `bits`-bit (default `hash_bits_`) hash of each row as it will be written."""
        return row_hashes(self.encoder_, data, bits or self.hash_bits_, self.hashes_written_)

    # ---- sampling ---------------------------------------------------------------------------
    def _draw(
        self,
        x: np.ndarray,
        shares: np.ndarray,
        rng: np.random.Generator,
        constraints: Constraints | None = None,
        rows: np.ndarray | None = None,
        start: int = 0,
        misses: np.ndarray | None = None,
    ) -> None:
        """Fill parts `start` onwards of the rows `x` (in synthesis order) along the trees; with
        constraints, a conditioned part draws from the allowed part of its leaf and `shares`
        gets that part's share of the leaf (1 for a free part), `misses` (rows) the sum of
        how far leaves of share 0 miss, in shares of each part's range."""
        n_cont = len(self.encoder_.continuous_parts)
        for j in range(start, len(self.order_)):
            part, tree = self.order_[j], self.trees_[j]
            leaf = tree.leaves(x[:, :j])
            limit = _limits(constraints, part, n_cont, rows)
            if limit is None:
                x[:, j] = tree.draw(leaf, rng)
                shares[:, j] = 1.0
            else:
                x[:, j], shares[:, j], miss = tree.draw_within(leaf, rng, *limit)
                if misses is not None:
                    low, high = constraints.ranges.get(part, (0.0, 1.0))
                    misses += miss / max(high - low, 1e-300)

    def _rows(
        self,
        n: int,
        rng: np.random.Generator,
        constraints: Constraints | None = None,
        rows: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """`n` rows in synthesis order and their weights (the product of their shares). A row
        identical to a training row is drawn again from its end, further back as tries fail,
        the whole row where more rows stay copies than training rows repeat one another
        (`repeats_`; `cart_copies.redraw_from`); one still a copy after `_COPY_ROUNDS` is kept."""
        x = np.empty((n, len(self.order_)))
        shares = np.ones((n, len(self.order_)))
        self._draw(x, shares, rng, constraints, rows)
        redo = np.flatnonzero(cart_copies.redrawn(self, self._encoded(x), rng))
        last, allowed = len(self.order_) - 1, self.repeats_ * n
        for attempt in range(_COPY_ROUNDS):
            if not redo.size:
                break
            start = cart_copies.redraw_from(attempt, last, _COPY_ROUNDS, len(redo) > allowed)
            tail, tail_shares = x[redo], shares[redo]
            self._draw(
                tail, tail_shares, rng, constraints, None if rows is None else rows[redo], start
            )
            x[redo], shares[redo] = tail, tail_shares
            redo = redo[cart_copies.redrawn(self, self._encoded(tail))]
        return x, shares.prod(axis=1)

    def _encoded(self, x: np.ndarray) -> Encoded:
        n_cont = len(self.encoder_.continuous_parts)
        n_disc = len(self.encoder_.discrete_parts)
        cont = np.empty((len(x), n_cont))
        disc = np.empty((len(x), n_disc), dtype=np.int64)
        for j, part in enumerate(self.order_):
            if part < n_cont:
                cont[:, part] = x[:, j]
            else:
                disc[:, part - n_cont] = x[:, j]
        return Encoded(cont, disc, len(x))

    def _sample_encoded(self, n: int, rng: np.random.Generator) -> Encoded:
        return self._encoded(self._rows(n, rng)[0])

    def _sample_conditional(
        self, n: int, constraints: Constraints, rng: np.random.Generator
    ) -> Encoded:
        from synthgen.conditions import MAX_DRAWS_PER_ROW, MIN_DRAWS, concat

        wide = constraints.widened()
        if not wide.shared:
            return constraints.snap(constraints.clip(self._fill(n, wide, rng)))
        bound = self._bound(wide)
        limit = max(MAX_DRAWS_PER_ROW * n, MIN_DRAWS)
        kept: list[Encoded] = []
        found = drawn = 0
        rate = 1.0
        while found < n:
            batch = int(min(limit - drawn, max(1024, 1.2 * (n - found) / max(rate, 1e-3))))
            if batch <= 0 or bound <= 0:
                raise ConditionError(
                    f"only {found:,} of {n:,} rows meeting {constraints.label or 'the condition'} "
                    f"found in {drawn:,} draws: the condition is too rare for the cart model's "
                    f"trees; loosen it, or fit with {self._order_option(wide)} to draw it "
                    "first"
                )
            x, weight = self._rows(batch, rng, wide)
            drawn += batch
            ok = rng.random(batch) * bound < weight
            rate = max(ok.mean(), 1.0 / MAX_DRAWS_PER_ROW)
            take = np.flatnonzero(ok)[: n - found]
            kept.append(self._encoded(x[take]))
            found += len(take)
        if n / drawn < _SLOW_ACCEPTANCE and not self._leads(wide):
            import warnings

            from synthgen.errors import SynthgenWarning

            warnings.warn(
                f"{constraints.label or 'the condition'}: kept {n / drawn:.0%} of the rows drawn "
                f"along the trees; fit with {self._order_option(wide)} to draw the conditioned "
                "columns first (exact at the "
                "cost of unconditional sampling)",
                SynthgenWarning,
                stacklevel=2,
            )
        return constraints.clip(concat(kept))

    def _positions(self, wide: Constraints) -> list[int]:
        """Where the conditioned parts are in the synthesis order."""
        n_cont = len(self.encoder_.continuous_parts)
        return [
            j for j, part in enumerate(self.order_) if _limits(wide, part, n_cont, None) is not None
        ]

    def _leads(self, wide: Constraints) -> bool:
        """Whether the conditioned parts come first, behind at most the columns `order` named."""
        positions = self._positions(wide)
        col_of = {index: column for index, column, _ in _part_columns(self.encoder_)}
        led = set(self._led())
        first = {j for j, part in enumerate(self.order_) if col_of[part] in led}
        return set(range(max(positions, default=-1) + 1)) <= set(positions) | first

    def _conditioned(self, wide: Constraints) -> str:
        from synthgen.rules.keepers import SEP

        col_of = {index: column for index, column, _ in _part_columns(self.encoder_)}
        names = dict.fromkeys(col_of[self.order_[j]].split(SEP)[0] for j in self._positions(wide))
        return ",".join(names)

    def _order_option(self, wide: Constraints) -> str:
        columns = self._conditioned(wide)
        return option(f"--order {columns}", f"order={columns!r}")

    def _bound(self, wide: Constraints) -> float:
        """The largest weight a row can have under shared constraints."""
        n_cont = len(self.encoder_.continuous_parts)
        bound = 1.0
        for part, tree in zip(self.order_, self.trees_):
            limit = _limits(wide, part, n_cont, None)
            if limit is not None:
                bound *= tree.best_share(*limit)
        return bound

    def _fill(self, n: int, wide: Constraints, rng: np.random.Generator) -> Encoded:
        """Per-row constraints: each row picks one of `_FILL_DRAWS` candidates in proportion to
        their weights; rows whose candidates all have weight 0 get `_FILL_RETRY` more, and
        failing those the candidate whose leaves miss the given values least (the given cells
        are written back)."""
        x, weight, miss = self._candidates(np.arange(n), _FILL_DRAWS, wide, rng)
        # a weighted choice per row: the largest of u^(1/w) (Efraimidis-Spirakis)
        with np.errstate(divide="ignore"):
            score = np.log(rng.random(weight.shape)) / weight
        out = x[np.argmax(score, axis=0), np.arange(n)]
        dead = np.flatnonzero(~(weight.max(axis=0) > 0))
        if dead.size:
            x2, weight2, miss2 = self._candidates(dead, _FILL_RETRY, wide, rng)
            with np.errstate(divide="ignore"):
                score = np.log(rng.random(weight2.shape)) / weight2
            alive = weight2.max(axis=0) > 0
            cols = np.arange(len(dead))
            pick = np.where(alive, np.argmax(score, axis=0), np.argmin(miss2, axis=0))
            best = x2[pick, cols]
            # no candidate alive: the nearest of all tried
            first_best = miss.min(axis=0)[dead] < miss2[pick, cols]
            best[first_best & ~alive] = x[np.argmin(miss[:, dead], axis=0), dead][
                first_best & ~alive
            ]
            out[dead] = best
        return self._encoded(out)

    def _candidates(self, targets: np.ndarray, k: int, wide: Constraints, rng):
        """`k` candidate draws for each of the constraint rows `targets`: arrays (k, rows, parts),
        and the weights and misses (k, rows)."""
        rows = np.tile(targets, k)
        x = np.empty((len(rows), len(self.order_)))
        shares = np.ones_like(x)
        misses = np.zeros(len(rows))
        self._draw(x, shares, rng, wide, rows, misses=misses)  # given cells go back: no copy check
        m = len(targets)
        return (
            x.reshape(k, m, -1),
            shares.prod(axis=1).reshape(k, m),
            misses.reshape(k, m),
        )

    # ---- state ------------------------------------------------------------------------------
    def _get_state(self) -> dict[str, Any]:
        return {
            "min_leaf": self.min_leaf_,
            "split_alpha": self.split_alpha_,
            "split_tests": self.split_tests_,
            "leaf_blur": self.leaf_blur_,
            "order": self.order_,
            "trees": [t.to_state() for t in self.trees_],
            "hash_bits": self.hash_bits_,
            "row_hashes": self.row_hashes_,
            "common_hashes": self.common_hashes_,
            "copies_kept": self.copies_kept_,
            "hashes_written": self.hashes_written_,
            "repeats": self.repeats_,
            "sources": np.array([-1 if i is None else i for i in self.sources_], dtype=np.int64),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.min_leaf_ = int(state["min_leaf"])
        # files written before the split tests kept every split
        self.split_alpha_ = float(state.get("split_alpha", 1.0))
        self.split_tests_ = str(state.get("split_tests", NO_SPLIT))
        if not 0 < self.split_alpha_ <= 1:
            raise ValueError(f"a split significance of {self.split_alpha_}")
        if self.split_tests_ not in (EVERY_SPLIT, SPARSE_CATEGORIES, NO_SPLIT):
            raise ValueError(f"split tests {self.split_tests_[:40]!r}")
        self.order_ = [int(i) for i in state["order"]]
        rare = self._rare_codes()
        self.leaf_blur_ = float(state.get("leaf_blur", 0.0))  # older files: no blur
        if not 0 <= self.leaf_blur_ <= 10:
            raise ValueError(f"a leaf blur of {self.leaf_blur_}")
        self.trees_ = [
            _Tree(t, self.smoothing, r, self.leaf_blur_) for t, r in zip(state["trees"], rare)
        ]
        self.hash_bits_ = int(state["hash_bits"])
        self.row_hashes_ = np.asarray(state["row_hashes"], dtype=np.uint64)
        # files written before kept every copy of a repeated row out (all rows' hashes above)
        self.common_hashes_ = np.asarray(state.get("common_hashes", []), dtype=np.uint64)
        self.copies_kept_ = float(state.get("copies_kept", 1.0))
        self.hashes_written_ = bool(state.get("hashes_written", False))  # older: modelled parts
        self.repeats_ = float(state.get("repeats", 1.0))  # older files: no whole-row redraws
        if not (0 <= self.copies_kept_ <= 1 and 0 <= self.repeats_ <= 1):
            raise ValueError(f"a kept share of copies of {self.copies_kept_} or {self.repeats_}")
        n_parts = len(self.encoder_.parts)
        sources = np.asarray(state.get("sources", np.full(n_parts, -1)), dtype=np.int64)
        if sources.shape != (n_parts,) or (sources >= np.arange(n_parts)).any():
            raise ValueError("a looked-up part names a source not drawn before it")
        self.sources_ = [None if i < 0 else int(i) for i in sources]
        cards = (
            _cardinalities(self.encoder_, self.order_)
            if sorted(self.order_) == list(range(n_parts))
            else None
        )
        if cards is None or len(self.trees_) != n_parts or not 1 <= self.hash_bits_ <= 64:
            raise ValueError("the trees and the schema disagree on the parts")
        for j, (tree, card) in enumerate(zip(self.trees_, cards)):
            inner = tree.feature[tree.left >= 0]
            if (inner < 0).any() or (inner >= j).any():
                raise ValueError(f"tree {j} splits on a part not drawn before it")
            if (tree.counts is None) != (card is None) or (
                card is not None and tree.counts.shape[1] != card
            ):
                raise ValueError(f"tree {j} does not match its part")
            if tree.ranks is not None and not ranks_fit(tree.ranks, cards[:j]):
                raise ValueError(f"tree {j}'s category ranks do not match the parts before it")
        for hashes in (self.row_hashes_, self.common_hashes_):
            check_hashes(hashes, self.hash_bits_)
        if self.min_leaf_ < 1:
            raise ValueError(f"a least leaf size of {self.min_leaf_} rows")

    def describe(self) -> dict[str, Any]:
        label = {
            index: f"{column} (null)" if null else column
            for index, column, null in _part_columns(self.encoder_)
        }
        return {
            "min_leaf": self.min_leaf_,
            "smoothing": self.smoothing,
            "split_alpha": self.split_alpha_,
            "split_tests": self.split_tests_,
            "leaf_blur": self.leaf_blur_,
            "copies": "allowed" if self.allow_copies else _copy_rule(self.copies_kept_),
            "order": [label[i] for i in self.order_],
            "leaves": [t.n_leaves for t in self.trees_],
            "half_leaves": [  # trees whose column took half the crowd (`cart_leaves`)
                label[self.order_[j]]
                for j, t in enumerate(self.trees_)
                if self.sources_[j] is None and 0 < t.least_leaf() < self.min_leaf_
            ],
            "looked_up": [
                f"{label[self.order_[j]]} from {label[self.order_[i]]}"
                for j, i in enumerate(self.sources_)
                if i is not None
            ],
        }


def _source(x: np.ndarray, j: int, cards: list[int | None]) -> int | None:
    """The first discrete part before part j of which j is a function on the training rows
    (education-num of education, a zone's borough), with `_DERIVE_ROWS` rows per category on
    average (with few rows per category almost anything is a function of it); else None.

    Such a part is looked up rather than drawn from leaves of `min_leaf` rows: those leaves mix
    the values of small categories (adult's Preschool, 41 rows, shared its leaf with 1st-4th, so
    a quarter of synthetic 1st-4th rows had Preschool's education-num). Nothing private is
    added: every row of a category has the value, and categories are rare-protected."""
    y = x[:, j]
    if j == 0 or not np.isfinite(y).all() or np.ptp(y) == 0:
        return None
    for i in range(j):
        k = cards[i]
        if not k or k < 2:
            continue
        codes = x[:, i].astype(np.int64)
        present = np.bincount(codes, minlength=k) > 0
        if present.sum() < 2 or len(y) < _DERIVE_ROWS * present.sum():
            continue
        lo, hi = np.full(k, np.inf), np.full(k, -np.inf)
        np.minimum.at(lo, codes, y)
        np.maximum.at(hi, codes, y)
        if (lo[present] == hi[present]).all():
            return i
    return None


def _part_columns(encoder) -> list[tuple[int, str, bool]]:
    """(index in Encoded terms, continuous parts first; column; whether it is a null indicator)
    of every modelled part, column by column, a column's null indicator before its value."""
    from synthgen.conditions import targets

    n_cont = len(encoder.continuous_parts)
    out = []
    for name, target in targets(encoder).items():
        if target.null is not None:
            out.append((n_cont + target.null, name, True))
        if target.value is not None:
            out.append((n_cont + target.value if target.discrete else target.value, name, False))
    return out


def _stack(data: Encoded, order: list[int], encoder) -> np.ndarray:
    n_cont = len(encoder.continuous_parts)
    x = np.empty((data.n_rows, len(order)))
    for j, part in enumerate(order):
        x[:, j] = data.continuous[:, part] if part < n_cont else data.discrete[:, part - n_cont]
    return x


def _cardinalities(encoder, order: list[int]) -> list[int | None]:
    n_cont = len(encoder.continuous_parts)
    disc = encoder.discrete_parts
    return [None if i < n_cont else int(disc[i - n_cont].cardinality) for i in order]


def _limits(constraints: Constraints | None, part: int, n_cont: int, rows):
    """(allowed, lo, hi) for draw_within, row by row (`rows`: the constraint row of each draw),
    or None when the part is free."""
    if constraints is None:
        return None
    pick = (lambda a: a) if rows is None or constraints.shared else (lambda a: a[rows])
    if part < n_cont:
        if part not in constraints.intervals:
            return None
        lo, hi = constraints.intervals[part]
        if constraints.shared:
            return None, float(lo[0]), float(hi[0])
        return None, pick(lo), pick(hi)
    mask = constraints.allowed.get(part - n_cont)
    if mask is None:
        return None
    return (mask[0] if constraints.shared else pick(mask)), None, None


def _copy_rule(kept: float) -> str:
    """What cart does with a drawn row identical to a training row, in words."""
    if kept >= 1:
        return "drawn again, unless of a row other training rows repeat"
    return f"drawn again, unless of a row other training rows repeat ({kept:.0%} of those kept)"
