"""A live training dashboard in the browser (ConvNetJS's demo page, for any striate run).

`DashboardCallback` publishes a run's events to `events.jsonl` in its folder and applies the
page's controls between steps; `DashboardServer` serves one or more run folders over HTTP with
server-sent events. Command line: `striate train ... --dashboard`, `striate dashboard RUN...`.
"""

from striate.dashboard.publisher import DashboardCallback
from striate.dashboard.server import DashboardServer, RunSource

__all__ = ["DashboardCallback", "DashboardServer", "RunSource"]
