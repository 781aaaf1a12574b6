"""The workflows of a social media manager, over adapters' public API only.

- :mod:`~socialkit.workflows.inbox`: a unified, routed inbox with reply and response times.
- :mod:`~socialkit.workflows.listening`: watches on keywords, hashtags and accounts.
- :mod:`~socialkit.workflows.alerts`: bad-buzz detection on a watch's volume and negativity.
- :mod:`~socialkit.workflows.analytics`: metric snapshots, best time, best frequency, exports.
- :mod:`~socialkit.workflows.sentiment`: the scorer protocol and an offline EN/FR scorer.
- :mod:`~socialkit.workflows.planner`: a content calendar that publishes exactly once
  (imported on its own: ``from socialkit.workflows.planner import Planner, Runner``).

Every workflow persists through a :class:`~socialkit.Store` (SQLite by default).
"""

from __future__ import annotations

from socialkit.workflows.alerts import Alert, AlertCallback, BuzzMonitor, DetectorConfig, detect
from socialkit.workflows.analytics import (
    ENGAGEMENT,
    EngagementDefinition,
    FrequencyStat,
    GroupStat,
    MetricsCollector,
    PostPerformance,
    Slot,
    Snapshot,
    TimeGrid,
    best_frequency,
    best_hours,
    best_times,
    engagement_rate,
    from_dataframe,
    performance_by,
    plot_heatmap,
    plot_series,
    read_csv,
    recommendations,
    to_dataframe,
    to_records,
    top_posts,
    write_csv,
)
from socialkit.workflows.inbox import (
    Conversation,
    Inbox,
    InboxDelivery,
    InboxItem,
    QueueReport,
    Route,
    RoutingRule,
    RoutingTable,
    Status,
)
from socialkit.workflows.listening import (
    EngagementSummary,
    ListenedItem,
    Listening,
    RisingTerm,
    VolumeBucket,
    Watch,
)
from socialkit.workflows.sentiment import (
    LexiconScorer,
    SentimentScorer,
    UnsupportedLanguageError,
    score_or_none,
)

__all__ = [
    "Alert",
    "AlertCallback",
    "BuzzMonitor",
    "Conversation",
    "DetectorConfig",
    "ENGAGEMENT",
    "EngagementDefinition",
    "EngagementSummary",
    "FrequencyStat",
    "GroupStat",
    "Inbox",
    "InboxDelivery",
    "InboxItem",
    "LexiconScorer",
    "ListenedItem",
    "Listening",
    "MetricsCollector",
    "PostPerformance",
    "QueueReport",
    "RisingTerm",
    "Route",
    "RoutingRule",
    "RoutingTable",
    "SentimentScorer",
    "Slot",
    "Snapshot",
    "Status",
    "TimeGrid",
    "UnsupportedLanguageError",
    "VolumeBucket",
    "Watch",
    "best_frequency",
    "best_hours",
    "best_times",
    "detect",
    "engagement_rate",
    "from_dataframe",
    "performance_by",
    "plot_heatmap",
    "plot_series",
    "read_csv",
    "recommendations",
    "score_or_none",
    "to_dataframe",
    "to_records",
    "top_posts",
    "write_csv",
]
