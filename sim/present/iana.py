"""Who can block what, before and after the IANA stewardship transition (figure and table).

``python -m sim.present.iana --out docs/figures`` writes ``iana_power.png/svg/pdf`` and
prints the table: the normalized Banzhaf power of each body in the decision chain on a
technical (root-zone) decision — the 16 voting directors of the ICANN Board by selecting
body, then the US government (NTIA) as a veto player before 1 October 2016, or the
Empowered Community's Decisional Participants after it (:mod:`sim.model.forums.oversight`;
the community's thresholds are UNVERIFIED).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.model.forums.board import board_table  # noqa: E402
from sim.model.forums.oversight import iana_power_table  # noqa: E402
from sim.present.plots import Figure, save  # noqa: E402


def power_before_after(table: pd.DataFrame, out_dir: Path, source: str) -> Figure:
    """Grouped bars: each body's Banzhaf power before and after the transition."""
    fig, ax = plt.subplots(figsize=(10, 5.5))
    y = np.arange(len(table))
    ax.barh(y - 0.2, table["pre2016"], 0.4, label="before 1 Oct 2016 (NTIA approves)",
            color="#999999")  # fmt: skip
    ax.barh(y + 0.2, table["post2016"], 0.4, label="after (Empowered Community may reject)",
            color="#1f4e79")  # fmt: skip
    ax.set_yticks(y, table.index)
    ax.invert_yaxis()
    ax.set_xlabel("normalized Banzhaf power (share of swings), summed over a body's players")
    ax.legend(loc="lower right", frameon=False)
    ax.grid(axis="x", color="#dddddd")
    ax.spines[["top", "right"]].set_visible(False)
    title = "Who can block a technical decision: power before and after the IANA transition"
    caption = (
        "Simple games by enumeration (sim.model.games): the Board adopts by majority of its 16 "
        "voting directors and, before, the US government approves; after, the Empowered "
        "Community does not reject (3 participants supporting, at most 1 objecting: "
        "UNVERIFIED thresholds)."
    )
    return save(fig, out_dir, "iana_power", title, caption, source)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("results/iana"))
    p.add_argument("--gac-carveout", action="store_true", help="the GAC does not take part")
    a = p.parse_args(argv)
    table = iana_power_table(board_table("icann"), gac_carveout=a.gac_carveout)
    print(table.round(4).to_string())
    fig = power_before_after(
        table, a.out, "Source: govsim, ICANN Bylaws 2016 Art. 6-7 (sim/data/icann_board.csv)"
    )
    print(fig.png)


if __name__ == "__main__":
    main()
