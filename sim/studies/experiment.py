"""Former home of the comparison study; everything moved to :mod:`sim.studies.spec`.

Kept so that imports from other branches keep working while they are merged;
new code imports from :mod:`sim.studies.spec`.
"""

from sim.studies.spec import (  # noqa: F401
    FIGURE_KINDS,
    FORUM_METRICS,
    GROUP_METRICS,
    ISSUE_METRICS,
    METRICS,
    RUN_METRICS,
    UNITS,
    ComparisonStudy,
    Metric,
    RunSpec,
    Study,
    expand,
    hydra_value,
    load_study,
    parse_metric,
    parse_study,
    point_overrides,
    resolve_path,
    study_meta,
    study_names,
)
