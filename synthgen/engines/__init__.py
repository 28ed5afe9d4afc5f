"""Where sampling runs: `local` (this process, a few threads) or `dask` (a Dask cluster).

Both write the same rows for the same seed: row i of a sample always comes from the same random
stream, so any worker can make any slice of it (see `Synthesizer.sample_rows`), and a partitioned
dataset written by either engine holds the same files, byte for byte.
"""

ENGINES = ("local", "dask")
