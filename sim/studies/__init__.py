"""The studies layer: a study as data, expanded into runs, executed, stored and summarised.

:mod:`.spec` (the typed study schema of every kind, its loader and its runs),
:mod:`.execute` (runs in a process pool), :mod:`.store` (one Parquet per
run, manifest, aggregate), :mod:`.launch` (Hydra launchers, shards, multirun
sweeps), :mod:`.stats` (means and paired differences with intervals).
"""
