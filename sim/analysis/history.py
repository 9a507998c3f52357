"""History targets: what the 2005-2025 replay (scenario ``history_2005_2025``) must reproduce.

Targets and their sources (research notes docs/research/negotiation/history.md, ecosoc.md;
docs/FACTS.md "History 2005-2025"; docs/ODD.md "History replay"):

1. WGEC 1 (2013-14) adopts no report: the Chair reported to CSTD 17 that "No
   recommendations will be made" (dig.watch WGEC page, S51). P(report) <= 0.1.
2. WGEC 2 (2016-18) adopts no report: "unable, due to lack of consensus, to adopt a
   Report" (N. Hickson, ICANN, 4 Feb 2018, S64; M. Mueller, IGP, 10 Feb 2018, S66).
   P(report) <= 0.1.
3. The CSTD adopts its annual WSIS resolution by consensus in >= 90% of years (2006-2025):
   "to date, there has never been a vote on CSTD's draft resolutions" (S. Dickinson 2016,
   S22); ECOSOC res. 2006/46 adopted without a vote (S20); 2012 without a vote (S21).
4. WSIS+10 (GA res. 70/125, Dec 2015) renews the working-group route rather than creating a
   new intergovernmental mechanism (¶65: "note ... the divergent views", a new working
   group; S57) in most replicates: P(mechanism) < 0.5.

Each behaviour's ``behaviour.reservation`` is set on them (:func:`reservation_for`).
``python -m sim.analysis.history 20 [override ...]`` prints the targets table (rates with
95% intervals), e.g. ``python -m sim.analysis.history 10 behaviour=calibrated``.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from sim.model.compose import load_config
from sim.model.model import GovernanceModel
from sim.studies.stats import t_interval

ROOT_SEED = 20051118  # the Tunis Agenda, 18 Nov 2005
FIRST_CSTD_YEAR = 2  # 2006: ECOSOC res. 2006/46 makes the CSTD the WSIS focal point
_OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt}
RESERVATION_FLOOR = 0.15
"""The low end of ``behaviour.reservation``'s documented range (docs/ODD.md, 0.15-0.35)."""

TARGETS = [
    ("wgec1_report", "WGEC 1 (2013-14) adopts a report", "<= 0.1",
     "dig.watch WGEC page: 'No recommendations will be made' (S51)"),
    ("wgec2_report", "WGEC 2 (2016-18) adopts a report", "<= 0.1",
     "Hickson 2018 (S64); Mueller 2018 (S66): no report for lack of consensus"),
    ("cstd_consensus", "CSTD adopts its WSIS resolution by consensus (share of years "
     "2006-2025)", ">= 0.9",
     "Dickinson 2016: never a vote on CSTD drafts (S22); res. 2006/46 (S20); 2012 (S21)"),
    ("wsis10_mechanism", "WSIS+10 (GA, Dec 2015) creates a new intergovernmental mechanism",
     "< 0.5", "GA res. 70/125 ¶¶64-65: divergent views noted, a second working group (S57)"),
]  # fmt: skip


def replay(replicate: int, overrides: Sequence[str] = ()) -> dict[str, float]:
    """One replicate of the replay: the targeted outcomes."""
    seed = np.random.SeedSequence(ROOT_SEED, spawn_key=(replicate,))
    m = GovernanceModel("history_2005_2025", overrides=overrides, rng=seed).run()
    texts = pd.DataFrame(m.text_records, columns=["forum", "step", "adopted", "voted"])
    texts["year"] = (texts["step"] - 1) // 12 + 1
    cstd = texts[(texts["forum"] == "cstd") & (texts["year"] >= FIRST_CSTD_YEAR)]
    mechanism = {m.forum_names[x.decided_by]: x.adopted for x in m.chain.mandates}
    return {
        "wgec1_report": float(texts[texts["forum"] == "wgec1"]["adopted"].any()),
        "wgec2_report": float(texts[texts["forum"] == "wgec2"]["adopted"].any()),
        "cstd_consensus": float((cstd["adopted"] & ~cstd["voted"]).mean()),
        "wsis10_mechanism": float(mechanism["wsis10"]),
        "wsis20_mechanism": float(mechanism["wsis20"]),
    }


def wilson(k: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion k/n."""
    z = sps.norm.ppf(0.5 + level / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def targets_table(n: int, overrides: Sequence[str] = ()) -> pd.DataFrame:
    """Each target, its source and the simulated rate with its 95% interval over ``n``
    replicates (Wilson for a proportion of replicates, Student-t for the CSTD's share)."""
    runs = pd.DataFrame([replay(r, overrides) for r in range(n)])
    rows = []
    for key, what, want, source in TARGETS:
        x = runs[key].to_numpy()
        if key == "cstd_consensus":
            ci = t_interval(x)
            lo, hi = ci["lo"], ci["hi"]
        else:
            lo, hi = wilson(x.sum(), n)
        rows.append({"target": what, "wanted": want, "simulated": float(x.mean()),
                     "lo": lo, "hi": hi, "replicates": n, "source": source})  # fmt: skip
    rows.append({"target": "WSIS+20 (GA, Dec 2025) creates a new mechanism (not a target; "
                 "what A/RES/80/173 says on enhanced cooperation was not retrieved)",
                 "wanted": "-", "simulated": float(runs["wsis20_mechanism"].mean()),
                 "lo": np.nan, "hi": np.nan, "replicates": n, "source": "S28, S29"})  # fmt: skip
    return pd.DataFrame(rows)


def holds(table: pd.DataFrame) -> bool:
    """Every target of a :func:`targets_table` met by its simulated rate."""
    rates = table["simulated"].to_numpy()
    for (_, _, wanted, _), rate in zip(TARGETS, rates, strict=False):
        op, bound = wanted.split()
        if not _OPS[op](rate, float(bound)):
            return False
    return True


def reservation_for(
    behaviour: str = "default", overrides: Sequence[str] = (), n: int = 20, step: float = 0.025
) -> float:
    """The reservation at which the replay meets every target under ``behaviour``: the
    default behaviour's own value (``configs/behaviour/default.yaml``, set on the replay) if
    every target holds, else the next value down on a ``step`` grid, to the range's floor.

    Raises ``ValueError`` when not even the floor meets them.
    """
    value = load_config("history_2005_2025", ["behaviour=default"]).behaviour.reservation
    while value >= RESERVATION_FLOOR - 1e-9:
        value = round(value, 10)
        table = targets_table(n, [f"behaviour={behaviour}", *overrides,
                                  f"behaviour.reservation={value}"])  # fmt: skip
        if holds(table):
            return value
        value -= step
    raise ValueError(f"behaviour={behaviour}: no reservation down to {RESERVATION_FLOOR} "
                     "meets every history target")  # fmt: skip


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    table = targets_table(n, sys.argv[2:])  # further arguments: Hydra overrides
    with pd.option_context("display.width", 200, "display.max_colwidth", 90):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
