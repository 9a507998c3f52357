# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Reading a study's results with pandas
#
# A worked example: load a study's tidy aggregate, reproduce the briefing's first figure
# for one measure, and compute one paired difference against the baseline by hand — the
# number the briefing's findings report. Open it as a notebook with jupytext
# (`jupytext --to notebook reading_a_study.py`) or run it as a script:
#
#     govsim experiment cstd_anchor --replicates 5 --years 3
#     GOVSIM_STUDY_DIR=results/cstd_anchor python docs/examples/reading_a_study.py
#
# Columns, units and ranges of every table: docs/outputs.md.

# %%
import json
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

root = Path(os.environ.get("GOVSIM_STUDY_DIR", "results/cstd_anchor"))
agg = pd.read_parquet(root / "aggregate.parquet")
manifest = json.loads((root / "manifest.json").read_text())
baseline = manifest["runs"][0]["scenario"]  # a study's first scenario is its default baseline
print(agg.head())
print(f"{agg['key'].nunique()} runs; scenarios: {', '.join(agg['scenario'].unique())}")

# %% [markdown]
# ## One measure, one value per run
#
# A whole-run measure is a `kind == "summary"` row. `forum`, `group` and `issue` are null
# where the measure is not broken down that way: the attainment gap is a whole-run measure,
# so all three are null.

# %%
gap = agg[(agg["kind"] == "summary") & (agg["metric"] == "attainment_gap")
          & agg["forum"].isna() & agg["group"].isna() & agg["issue"].isna()]  # fmt: skip
per_run = gap.pivot_table(index="replicate", columns="scenario", values="value")
print(per_run)

# %% [markdown]
# ## The figure: mean and 95% t-interval per scenario
#
# The briefing's dot-and-interval panel for this measure, drawn by hand.


# %%
def t_interval(x: np.ndarray) -> tuple[float, float, float]:
    x = x[np.isfinite(x)]
    m = x.mean()
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return m, m - half, m + half


rows = [(s, *t_interval(per_run[s].to_numpy())) for s in per_run.columns]
fig, ax = plt.subplots(figsize=(6, 3))
for y, (_, m, lo, hi) in enumerate(rows):
    ax.errorbar(m, y, xerr=[[m - lo], [hi - m]], fmt="o", color="black", capsize=4)
ax.set_yticks(range(len(rows)), [r[0] for r in rows])
ax.axvline(per_run[baseline].mean(), ls=":", color="grey")
ax.set_xlabel("attainment gap (developed − developing governments)")
ax.set_title(f"n = {len(per_run)} replicates per scenario", loc="left")
fig.tight_layout()
fig.savefig(root / "reading_a_study.png", dpi=100)

summary = pd.read_csv(root / "summary.csv")
mine = pd.DataFrame(rows, columns=["scenario", "mean", "lo", "hi"]).set_index("scenario")
theirs = summary[summary["metric"] == "attainment_gap"].set_index("scenario")
assert np.allclose(mine["mean"], theirs.loc[mine.index, "mean"])
print(mine)

# %% [markdown]
# ## One paired difference by hand
#
# Replicate r of every scenario uses the same random stream (common random numbers), so
# the difference is taken within each replicate and its interval is the t-interval of
# those differences — far narrower than comparing two means.

# %%
other = next(s for s in per_run.columns if s != baseline)
d = (per_run[other] - per_run[baseline]).to_numpy()
diff, lo, hi = t_interval(d)
print(f"{other} − {baseline}: {diff:+.4f} (95% CI {lo:+.4f} to {hi:+.4f})")

diffs = pd.read_csv(root / "differences.csv")
row = diffs[(diffs["metric"] == "attainment_gap") & (diffs["scenario"] == other)].iloc[0]
assert np.isclose(row["diff"], diff)
if np.isfinite(row["lo"]) and row["lo"] > -1 and row["hi"] < 1:  # not cut at the range
    assert np.isclose(row["lo"], lo) and np.isclose(row["hi"], hi)
print("matches differences.csv:", row[["diff", "lo", "hi"]].to_dict())
