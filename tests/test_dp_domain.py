"""The DP models' domain arithmetic that needs no opendp: the public grid of cells, pooling noisy
counts, bins with spikes, and drawing values inside bins (post-processing of released counts)."""

from __future__ import annotations

import numpy as np

from synthgen.models.dp.domain import (
    bins_of,
    cell_codes,
    draw_in_bins,
    number_cells,
    number_domain,
    pooled_mass,
)


def test_grid_does_not_depend_on_data_and_holds_integers_alone():
    lo, hi, point = number_cells(integer=True)
    # every integer within +-1000 is a cell of its own: a spike (0, 40) can be kept exact
    for v in (-3, 0, 40, 999):
        cell = cell_codes(np.array([float(v)]), hi)[0]
        assert point[cell] and hi[cell] == v and lo[cell] == v - 1
    # beyond, cells grow by at most a quarter of their value
    far = (lo > 1000) & np.isfinite(hi)
    assert ((hi[far] - lo[far]) / hi[far] <= 0.25 + 1e-12).all()


def test_public_bounds_cut_the_grid():
    lo, hi, _ = number_cells(integer=False, low=2.5, high=700.0)
    assert lo[0] < 2.5 and hi[0] == 2.5 and hi[-1] == 700.0
    codes = cell_codes(np.array([-5.0, 2.5, 3.0, 1e9, np.nan]), hi)
    assert codes.tolist()[:2] == [0, 0] and codes[3] == len(hi) - 1 and codes[4] == -1


def test_pooled_mass_keeps_clear_counts_and_pools_sparse_ones():
    rng = np.random.default_rng(0)
    exact = np.zeros(200)
    exact[50] = 5000  # a spike
    exact[60:120] = 30  # a spread too thin for one cell to clear 4 noise scales of 20
    noisy = exact + rng.normal(0, 20, 200)
    mass = pooled_mass(noisy, scale=20)
    assert abs(mass[50] - 5000) < 80
    assert 900 < mass[60:120].sum() < 2200  # pooled: most of the spread is found
    assert mass[:40].sum() == 0 and mass[140:].sum() == 0  # noise alone is not mass


def test_bins_keep_spikes_alone_and_merge_the_rest():
    mass = np.array([1.0] * 10 + [50.0] + [1.0] * 10)
    point = np.ones(21, dtype=bool)
    bins = bins_of(mass, point, max_bins=8)
    assert (bins == bins[10]).sum() == 1  # the spike is a bin of its own
    assert bins.max() + 1 <= 8 and (np.diff(bins) >= 0).all()


def test_draws_stay_in_their_bin_spikes_exact_integers_whole():
    lo, hi, point = number_cells(integer=True, low=0, high=99)
    counts = np.zeros(len(lo) + 1)
    counts[cell_codes(np.array([0.0]), hi)[0]] = 10_000
    counts[cell_codes(np.arange(1.0, 100.0), hi)] = 200
    domain = number_domain(counts, (lo, hi, point), scale=10.0, max_bins=8, public_bounds=True)
    of = np.asarray(domain["bin_of_cell"])
    rng = np.random.default_rng(1)
    bins = rng.integers(0, of.max() + 1, 5000)
    x = draw_in_bins(bins, domain, True, rng.random((5000, 2)))
    assert (x == np.round(x)).all() and x.min() >= 0 and x.max() <= 99
    zero_bin = of[cell_codes(np.array([0.0]), np.asarray(domain["hi"]))[0]]
    assert (x[bins == zero_bin] == 0).all()
    # each draw lies in a cell of its own bin
    cells = cell_codes(x, np.asarray(domain["hi"]))
    assert (of[cells] == bins).all()


def test_missing_extra_exits_6_naming_the_extra(tmp_path, monkeypatch, capsys):
    import dataclasses

    import pytest

    from synthgen.cli import main
    from synthgen.models import REGISTRY

    # as without the extra, whether or not this environment has it
    missing = dataclasses.replace(REGISTRY["aim"], needs=("opendp_not_installed",))
    monkeypatch.setitem(REGISTRY, "aim", missing)
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "sample_data/penguins.csv", "--model", "aim", "-o", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 6
    assert "pip install 'synthgen[dp]'" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()
