"""The Temporal SDK's own metrics (task slots, poll and schedule-to-start latencies, activity failures).

They live in the worker process's Rust core, not in the database, so the worker serves them itself on a port
of its own for Prometheus to scrape (one target per worker), beside the API's `GET /metrics`. The runtime is
made once per process and handed to `Client.connect(runtime=...)`; every client and worker built on that
client reports through it.
"""

from __future__ import annotations

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig


def runtime_with_prometheus(bind_address: str) -> Runtime:
    """A Temporal runtime that serves its metrics at http://<bind_address>/metrics (e.g. "0.0.0.0:9464").

    Metric names and units are the SDK's defaults (milliseconds, `temporal_` prefix), which Temporal's
    published Grafana dashboards expect.
    """
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind_address)))
