"""The studies layer: a study as data, expanded into runs, executed, stored and summarised.

:mod:`.experiment` (the study file and its runs), :mod:`.store` (one Parquet per
run, manifest, aggregate), :mod:`.launch` (Hydra launchers, shards, multirun
sweeps), :mod:`.stats` (means and paired differences with intervals).
"""
