"""Where a meeting is held, and what getting there costs each actor.

A meeting has a host **country** (and a venue city): the IGF follows its real host
calendar 2006-2025 (``sim/data/igf_meetings.csv``), a forum with a fixed seat
(CSTD, WGEC: Geneva) names its host, and other presets rotate over a list of host
countries (default: one per host region, :data:`DEFAULT_HOSTS`).

Travel cost per delegate is a **travel index** (1 = the longest trips):

- from the capital of the actor's home country to the venue city, great-circle
  distance ``D`` (capitals: ``sim/data/capitals.csv``; host cities in
  ``igf_meetings.csv``), index ``(max(D, 500 km) / 13,830 km) ** beta``
  (13,830 km: mean capital-to-capital distance Asia-Pacific to GRULAC, the longest
  group pair; ``beta = behaviour.distance_exponent``, rule C1 of
  ``sim/data/distance_rule.SOURCES.md``; beta is an ASSUMPTION, range 0.3-0.8);
- ``behaviour.local_cost`` (near zero) for anyone whose home country hosts the meeting;
- ``behaviour.mission_cost`` for a state with a permanent mission in the meeting's
  city (``forum.mission_city``): its mission staff's time, not airfare. Mission
  presence: ``sim/data/missions.csv`` (Geneva: 181 of 193 states, UNOG; which 12
  lack one is rule G1, an ASSUMPTION; New York: all 193, an ASSUMPTION, range 191-193).

**Local participants** (``forum.local_participants``): organisations of the host
country (business, civil society, academia/technical) that take part only when the
forum meets in their country. Their number follows the host-size rule in
:func:`local_counts`. The host government is the existing government actor; at home
it pays ``local_cost`` and so chooses a large delegation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from sim.model.config import REGIONS, BehaviourConfig, ForumConfig, GovsimConfig
from sim.resources import DATA_DIR

LONGEST_KM = 13_830.0
"""Mean capital-to-capital distance Asia-Pacific <-> GRULAC, the longest group pair
(sim/data/region_distance_km.csv, computed from capitals.csv): travel index 1."""
SHORTEST_KM = 500.0
"""Distances below this count as this (a short flight or a train; ASSUMPTION)."""
EARTH_KM = 6371.0088

DEFAULT_HOSTS = {
    "African": "KEN",
    "Asia-Pacific": "IDN",
    "Eastern European": "POL",
    "GRULAC": "BRA",
    "WEOG": "CHE",
}
"""Host country of a meeting in a region when a preset names none. ASSUMPTION: past IGF
hosts of each region (Nairobi 2011, Bali 2013, Katowice 2021, João Pessoa 2015, Geneva
2017: sim/data/igf_meetings.csv)."""

MISSION_CITIES = ("geneva", "new_york")
CALENDARS = ("igf",)
"""Shipped host calendars: ``sim/data/<name>_meetings.csv``."""


@dataclass(frozen=True)
class Venue:
    """Host of one meeting: country (row of the member-state table), region code, city."""

    country: int
    iso3: str
    region: int
    lat: float
    lon: float
    city: str


@cache
def _states() -> pd.DataFrame:
    """Member states (order of ``un_member_states.csv``) with capital coordinates, missions."""
    states = pd.read_csv(DATA_DIR / "un_member_states.csv", keep_default_na=False)
    states = states[["iso3", "un_regional_group", "population"]].copy()
    caps = pd.read_csv(DATA_DIR / "capitals.csv", keep_default_na=False).set_index("iso3")
    missions = pd.read_csv(DATA_DIR / "missions.csv").set_index("iso3")
    states["capital"] = caps.loc[states["iso3"], "capital"].to_numpy()
    states["lat"] = caps.loc[states["iso3"], "lat"].to_numpy(float)
    states["lon"] = caps.loc[states["iso3"], "lon"].to_numpy(float)
    for city in MISSION_CITIES:
        states[city] = missions.loc[states["iso3"], city].astype(bool).to_numpy()
    return states.reset_index(drop=True)


@cache
def _arrays() -> dict[str, np.ndarray]:
    """The member-state table as numpy arrays (fast per-meeting access)."""
    s = _states()
    out = {c: s[c].to_numpy() for c in ("iso3", "population", "lat", "lon", *MISSION_CITIES)}
    out["region"] = s["un_regional_group"].map(REGIONS.index).to_numpy()
    out["population"] = out["population"].astype(float)
    return out


@cache
def member_iso3() -> tuple[str, ...]:
    """ISO3 codes of the 193 UN member states (table order)."""
    return tuple(_states()["iso3"])


@cache
def _rows() -> dict[str, int]:
    return {c: i for i, c in enumerate(member_iso3())}


def country_index(iso3: str) -> int:
    """Row of ``iso3`` in the member-state table; ValueError naming the allowed codes."""
    try:
        return _rows()[iso3]
    except KeyError:
        raise ValueError(
            f"unknown host country {iso3!r}: use an ISO3 code of a UN member state"
        ) from None


@cache
def calendar(name: str) -> pd.DataFrame:
    """A shipped host calendar (``igf``: IGF 2006-2025), in-person meetings only."""
    path = DATA_DIR / f"{name}_meetings.csv"
    if not path.exists():
        raise ValueError(f"no host calendar {name!r} (sim/data/{name}_meetings.csv)")
    cal = pd.read_csv(path)
    return cal[cal["host_iso3"].notna()].reset_index(drop=True)


def _venue(iso3: str, city: str = "", lat: float | None = None, lon: float | None = None) -> Venue:
    i = country_index(iso3)
    s = _states().iloc[i]
    if lat is None or not np.isfinite(lat):
        lat, lon, city = float(s["lat"]), float(s["lon"]), city or str(s["capital"])
    region = REGIONS.index(s["un_regional_group"])
    return Venue(i, iso3, region, float(lat), float(lon), city)


@cache
def _venue_cached(iso3: str, city: str, lat: float, lon: float) -> Venue:
    return _venue(iso3, city, lat, lon)


def meeting_venue(forum: ForumConfig, meeting: int) -> Venue:
    """Venue of the forum's ``meeting``-th meeting (0-based).

    Order of precedence: ``host_country`` (fixed); ``host_calendar`` (the calendar's
    hosts in order, cycling); ``host_countries`` (cycling); a fixed ``venue`` region's
    or the rotating ``host_regions``' default host (:data:`DEFAULT_HOSTS`).
    """
    return _meeting_venue(forum.host_country, forum.host_calendar, tuple(forum.host_countries),
                          forum.venue, tuple(forum.host_regions), meeting)  # fmt: skip


@cache
def _meeting_venue(host_country, host_calendar, host_countries, venue, host_regions, meeting):
    forum = ForumConfig(host_country=host_country, host_calendar=host_calendar,
                        host_countries=list(host_countries), venue=venue,
                        host_regions=list(host_regions))  # fmt: skip
    if forum.host_country:
        if forum.host_calendar:  # the calendar's city when the host is in it
            cal = calendar(forum.host_calendar)
            row = cal[cal["host_iso3"] == forum.host_country]
            if len(row):
                r = row.iloc[-1]
                return _venue_cached(forum.host_country, r["host_city"], r["city_lat"],
                                     r["city_lon"])  # fmt: skip
        return _venue_cached(forum.host_country, "", np.nan, np.nan)
    if forum.host_calendar:
        cal = calendar(forum.host_calendar)
        r = cal.iloc[meeting % len(cal)]
        return _venue_cached(r["host_iso3"], r["host_city"], r["city_lat"], r["city_lon"])
    if forum.host_countries:
        iso3 = forum.host_countries[meeting % len(forum.host_countries)]
        return _venue_cached(iso3, "", np.nan, np.nan)
    region = forum.venue if forum.venue != "rotate" else (
        forum.host_regions[meeting % len(forum.host_regions)])  # fmt: skip
    return _venue_cached(DEFAULT_HOSTS[region], "", np.nan, np.nan)


def meetings_in_horizon(forum: ForumConfig, years: int) -> int:
    """How many meetings the forum holds within ``years`` (its calendar and mandate)."""
    last = min(forum.end_year or years, years)
    n = max(last - forum.start_year + 1, 0) * len(forum.meeting_months)
    return min(n, forum.max_meetings) if forum.max_meetings else n


def local_hosts(cfg: GovsimConfig) -> list[str]:
    """Host countries (ISO3, sorted) of meetings with local participants within the horizon."""
    hosts = set()
    for f in cfg.forum.values():
        if f.local_participants:
            hosts.update(meeting_venue(f, m).iso3 for m in range(meetings_in_horizon(f, cfg.years)))
    return sorted(hosts)


def local_counts(cfg: GovsimConfig, iso3: str) -> dict[str, int]:
    """Host-size rule: local organisations per group for host ``iso3``.

    ``round(local_counts[g] * local_scale * (population / 10M) ** local_elasticity)``,
    at least one per group. ASSUMPTION (form and elasticity); ``local_scale`` is fitted
    so that the host country makes up a share of onsite participants in the sourced
    range (25-56%, Hyderabad 2008: 56%; sim/data/distance_rule.SOURCES.md §3).
    """
    pc = cfg.population
    pop = _arrays()["population"][country_index(iso3)]
    size = (pop / 1e7) ** pc.local_elasticity
    return {g: max(1, int(round(n * pc.local_scale * size))) for g, n in pc.local_counts.items()}


def great_circle_km(lat: np.ndarray, lon: np.ndarray, venue: Venue) -> np.ndarray:
    """Haversine distance (km) from points to the venue."""
    la1, lo1 = np.radians(lat), np.radians(lon)
    la2, lo2 = np.radians(venue.lat), np.radians(venue.lon)
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(h))


@cache
def _country_index_to_venue(venue: Venue, beta: float) -> np.ndarray:
    """Distance travel index from every member state's capital to the venue."""
    a = _arrays()
    d = great_circle_km(a["lat"].astype(float), a["lon"].astype(float), venue)
    return (np.maximum(d, SHORTEST_KM) / LONGEST_KM) ** beta


def travel_index(
    country: np.ndarray, is_state: np.ndarray, venue: Venue, forum: ForumConfig,
    behaviour: BehaviourConfig,
) -> np.ndarray:  # fmt: skip
    """Per-delegate travel index of actors from ``country`` (member-state rows) to the venue.

    Distance from the home capital; ``local_cost`` at home; ``mission_cost`` for states
    (``is_state``) with a permanent mission in ``forum.mission_city``.
    """
    index = _country_index_to_venue(venue, float(behaviour.distance_exponent))[country]
    index = np.where(country == venue.country, behaviour.local_cost, index)
    mission = has_mission(country, is_state, forum)
    return np.where(mission, np.minimum(index, behaviour.mission_cost), index)


def has_mission(country: np.ndarray, is_state: np.ndarray, forum: ForumConfig) -> np.ndarray:
    """Which actors are states (``is_state``) with a permanent mission in the forum's
    ``mission_city`` (all False when the forum names none)."""
    if not forum.mission_city:
        return np.zeros(len(country), bool)
    return missions(forum.mission_city)[country] & is_state


def home_countries(regions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A home country (member-state row) for each non-state actor, within its region.

    Drawn with probability ∝ sqrt(population) of the region's states: ASSUMPTION
    (organisations cluster in populous states, less than proportionally; range:
    exponent 0-1).
    """
    a = _arrays()
    group = a["region"]
    weight = np.sqrt(a["population"])
    out = np.empty(len(regions), np.int16)
    for r in range(len(REGIONS)):
        who = np.flatnonzero(regions == r)
        if len(who):
            rows = np.flatnonzero(group == r)
            p = weight[rows] / weight[rows].sum()
            out[who] = rows[rng.choice(len(rows), size=len(who), p=p)]
    return out


def missions(city: str) -> np.ndarray:
    """Bool per member state (table order): a permanent mission in ``city``."""
    return _arrays()[city].astype(bool)
