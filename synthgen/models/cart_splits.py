"""How cart's trees split: a category's codes in the order of what they say of the part drawn
(`code_ranks`), and a grown tree pruned back to the splits its rows support (`split_kept`).

A tree grown down to leaves of `min_leaf` rows splits wherever it can, so on a small table many
of its splits follow chance: which rows the split happened to leave out. Gapminder's year tree
grouped countries by the years each had lost to the holdout (every country has every year), and
its leaves then drew only the years a country had in training: rows nearer the training rows
than new ones. A split is kept only where it is significant: the likelihood-ratio statistic (G)
of its two children against their parent, tested as chosen, as conditional inference trees do
(Hothorn, Hornik & Zeileis 2006):

- a split on a number (or a category of 2 codes) is the best of many thresholds: its G is
  tested as a maximally selected chi-square (Miller & Siegmund 1982's approximation, over the
  thresholds that leave `min_leaf` rows either side);
- a split on a category of 3 or more codes tests the whole category's association with the part
  in the node (G over every code present, chi-square with one degree of freedom per code
  beyond the first), since its codes were ordered by the part before the tree cut them.

A node whose split's p-value is above `alpha` becomes a leaf, and its subtree goes: the tree
stops where its rows stop supporting a split, from the root down, as conditional inference
trees stop growing. Measured choices (`python -m benchmarks.bench_small`, docs/benchmarks.md):

- from the root down, not from the leaves up: pruned from the leaves up, a chance split stays
  whenever any split below it passes by chance (a root split was kept on 13% of tables of pure
  noise at alpha 0.05), and the DCR share of the small tables read 0.536 against 0.532;
- no Bonferroni factor over the parts a split could have used (conditional inference trees
  have one): on wide tables of correlated numbers it cut the weak real splits a classifier
  sees (ISLP's Hitters, 20 columns, C2ST 0.92 -> 0.77; plotnine's midwest 0.91 -> 0.85), for
  no change of the DCR share (0.519 over eleven unseen tables either way). Without it a root
  split on noise is kept on 3-4% of tables at alpha 0.05 (the maximally selected statistic's
  approximation is conservative);
- the likelihood ratio of the values, not a rank test: ranks (Kruskal-Wallis) were as good on
  small tables (DCR share 0.537 against 0.533) and no better on larger ones.

Example:
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(400, 2))
    >>> y = np.where(x[:, 0] > 0, 5.0, 0.0) + rng.normal(size=400)
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> t = DecisionTreeRegressor(min_samples_leaf=20, random_state=0).fit(x, y).tree_
    >>> keep = split_kept(t, x, y, None, [None, None], 20, alpha=0.05)
    >>> int((t.children_left >= 0).sum()) > 5, int(keep.sum()) <= 3
    (True, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np


def split_kept(
    tree: Any,
    x: np.ndarray,
    y: np.ndarray,
    discrete: int | None,
    cards: list[int | None],
    min_leaf: int,
    alpha: float,
    tested: list[bool] | None = None,
) -> np.ndarray:
    """Which nodes of a fitted scikit-learn `tree` (its `tree_`) keep their split: a boolean per
    node, False at leaves and at every node pruned to a leaf (and below it). `tested` marks the
    parts whose splits are tested (None: all); a split on another part is kept as grown."""
    from scipy import stats

    left, right = tree.children_left, tree.children_right
    n_nodes = len(left)
    inner = left >= 0
    n = tree.n_node_samples.astype(float)
    if discrete:
        share = tree.value[:, 0, :]
        counts = share / np.maximum(share.sum(axis=1, keepdims=True), 1e-300) * n[:, None]
        df = np.maximum((counts > 0.5).sum(axis=1) - 1, 1)
    else:
        sse = tree.impurity * n
    p = np.ones(n_nodes)
    is_ranked = [(k or 0) >= 3 for k in cards]
    path = None
    for node in np.flatnonzero(inner):
        f = int(tree.feature[node])
        a, b = left[node], right[node]
        if tested is not None and not tested[f]:
            p[node] = 0.0
        elif is_ranked[f]:
            if path is None:
                path = tree.decision_path(x.astype(np.float32)).tocsc()
            rows = path.indices[path.indptr[node] : path.indptr[node + 1]]
            p[node] = _category_p(x[rows, f], y[rows], discrete, stats)
        elif discrete:
            g = _g_split(counts[node], counts[a], counts[b])
            p[node] = _threshold_p(g, int(df[node]), n[node], min_leaf, stats)
        else:
            g = (
                0.0
                if sse[node] <= 1e-12
                # a difference of logs: a split into pure leaves would overflow the ratio
                else n[node] * (np.log(sse[node]) - np.log(max(sse[a] + sse[b], 1e-300)))
            )
            p[node] = _threshold_p(g, 1, n[node], min_leaf, stats)
    keep = inner & (p <= alpha)
    # a pruned node's whole subtree goes with it
    for node in range(n_nodes):
        if inner[node] and not keep[node]:
            keep[left[node]] = keep[right[node]] = False
    return keep


def _g_split(parent: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """G of a split of class counts `parent` into `a` and `b`."""
    total = parent.sum()
    g = 0.0
    for child in (a, b):
        size = child.sum()
        held = child > 0
        if size > 0:
            g += float((child[held] * np.log(child[held] * total / (size * parent[held]))).sum())
    return 2.0 * g


def _threshold_p(g: float, df: int, n: float, min_leaf: int, stats) -> float:
    """The p-value of the best of a number's thresholds: G (of `df` degrees of freedom at one
    threshold) as a maximally selected chi-square over the thresholds leaving `min_leaf` rows
    either side (Miller & Siegmund's approximation, capped by Bonferroni over the thresholds)."""
    if g <= 0:
        return 1.0
    single = float(stats.chi2.sf(g, df))
    positions = max(n - 2 * min_leaf + 1, 1)
    if positions <= 1:
        return single
    c = float(stats.chi2.isf(max(single, 1e-300), 1)) if df != 1 else g
    eps = min_leaf / n
    root = np.sqrt(c)
    dens = float(stats.norm.pdf(root))
    ms = dens * (root - 1 / root) * np.log((1 - eps) ** 2 / eps**2) + 4 * dens / root
    return float(min(1.0, max(single, min(ms, positions * single))))


def _category_p(codes: np.ndarray, y: np.ndarray, discrete: int | None, stats) -> float:
    """The p-value of a category's association with the part over one node's rows: Pearson's
    chi-square for a discrete part (nearer its nominal level than G where a node's table is
    sparse), the analysis-of-variance F test for a number."""
    codes = np.unique(codes.astype(np.int64), return_inverse=True)[1].reshape(-1)
    k = int(codes.max()) + 1 if len(codes) else 0
    if k < 2:
        return 1.0
    if discrete:
        y = np.unique(y.astype(np.int64), return_inverse=True)[1].reshape(-1)
        j = int(y.max()) + 1
        if j < 2:
            return 1.0
        table = np.zeros((k, j))
        np.add.at(table, (codes, y), 1.0)
        expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / len(y)
        x2 = float(((table - expected) ** 2 / expected).sum())
        return float(stats.chi2.sf(x2, (k - 1) * (j - 1)))
    n = len(y)
    if n <= k:
        return 1.0
    rows = np.bincount(codes, minlength=k).astype(float)
    mean = np.bincount(codes, weights=y, minlength=k) / rows
    within = float(((y - mean[codes]) ** 2).sum())
    total = float(((y - y.mean()) ** 2).sum())
    if total <= 1e-12:
        return 1.0
    if within <= 1e-12 * total:
        return 0.0
    f = (total - within) / (k - 1) / (within / (n - k))
    return float(stats.f.sf(f, k - 1, n - k))


def pruned(tree: Any, keep: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The arrays of `tree` (a scikit-learn `tree_`) with every node `keep` marks False made a
    leaf and its subtree dropped (nodes renumbered in the same depth-first order, children after
    their parent), and the new number of each old node (that of the leaf it falls in)."""
    left, right = tree.children_left, tree.children_right
    n_nodes = len(left)
    new = np.full(n_nodes, -1, dtype=np.int64)
    order: list[int] = []
    stack = [0]
    while stack:  # preorder, left first: the order scikit-learn numbers its nodes in
        node = stack.pop()
        new[node] = len(order)
        order.append(node)
        if keep[node]:
            stack.append(int(right[node]))
            stack.append(int(left[node]))
    parent = np.zeros(n_nodes, dtype=np.int64)
    inner_old = np.flatnonzero(left >= 0)
    parent[left[inner_old]] = parent[right[inner_old]] = inner_old
    for node in range(n_nodes):  # a dropped node is numbered as the kept leaf above it
        if new[node] < 0:
            new[node] = new[parent[node]]
    old = np.asarray(order, dtype=np.int64)
    inner = keep[old]
    arrays = {
        "left": np.where(inner, new[np.where(inner, left[old], 0)], -1).astype(np.int64),
        "right": np.where(inner, new[np.where(inner, right[old], 0)], -1).astype(np.int64),
        "feature": np.where(inner, tree.feature[old], -1).astype(np.int64),
        "threshold": np.where(inner, tree.threshold[old], 0.0),
    }
    return arrays, new


def code_ranks(
    x: np.ndarray, y: np.ndarray, cards: list[int | None], discrete: int | None
) -> np.ndarray:
    """Per earlier part, the rank of each of its codes by the mean of y over its rows (-1 rows
    for numbers and categories of 2 codes): a tree then splits a category's codes by what they
    say of y, Breiman's order for a regression or two-class tree, where code order (the codes'
    frequency) splits them by chance (gapminder's countries: a leaf of 20 rows held countries
    next in frequency, whose population and wealth had nothing in common). For a category y of
    more codes, the mean of its code that varies most between the category's codes.

    Example:
        >>> x = np.array([[0.0], [0.0], [1.0], [1.0], [2.0], [2.0]])
        >>> code_ranks(x, np.array([5.0, 5.0, 1.0, 1.0, 3.0, 3.0]), [3], None)
        array([[2, 0, 1]])
    """
    width = max([k or 0 for k in cards] + [1])
    out = np.full((len(cards), width), -1, dtype=np.int64)
    if discrete and discrete > 2:  # the code whose share varies most between categories
        counts = np.bincount(y.astype(np.int64), minlength=discrete)
        best, spread = 0, -1.0
        for f, k in enumerate(cards):
            if (k or 0) < 3:
                continue
            codes = x[:, f].astype(np.int64)
            table = np.zeros((k, discrete))
            np.add.at(table, (codes, y.astype(np.int64)), 1.0)
            rows = table.sum(axis=1, keepdims=True)
            share = table / np.maximum(rows, 1)
            var = (rows * (share - counts / len(y)) ** 2).sum(axis=0)
            if var.max() > spread:
                best, spread = int(var.argmax()), float(var.max())
        score = (y == best).astype(float)
    else:
        score = y.astype(float)
    for f, k in enumerate(cards):
        if (k or 0) < 3:
            continue
        codes = x[:, f].astype(np.int64)
        rows = np.bincount(codes, minlength=k).astype(float)
        total = np.bincount(codes, weights=score, minlength=k)
        mean = np.where(rows > 0, total / np.maximum(rows, 1), score.mean() if len(score) else 0.0)
        out[f, np.argsort(mean, kind="stable")] = np.arange(k)
    return out


def ranks_fit(ranks: np.ndarray, cards: list[int | None]) -> bool:
    """Whether a loaded tree's ranks hold a row per earlier part, a permutation of the codes of
    each ranked category (of 3 codes or more) and nothing for the other parts."""
    if ranks.shape[0] != len(cards):
        return False
    for row, k in zip(ranks, cards):
        if row[0] < 0:
            continue
        if (k or 0) < 3 or len(row) < k or (row[k:] != -1).any():
            return False
        if not np.array_equal(np.sort(row[:k]), np.arange(k)):
            return False
    return True


def ranked(x: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """`x` with each ranked category's codes replaced by their ranks."""
    x = x.copy()
    for f in np.flatnonzero(ranks[: x.shape[1], 0] >= 0):
        width = int((ranks[f] >= 0).sum())
        x[:, f] = ranks[f, np.clip(x[:, f].astype(np.int64), 0, width - 1)]
    return x
