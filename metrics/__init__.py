"""S6, "how is it measured and evaluated?": recovery metrics read from the read model.

Two views of the same tables: `summary` answers a person (JSON over a chosen period, per workflow type,
first-contact channel and source); `prometheus` answers a scraper (totals and histograms at scrape time).
Both compute from the database, not from process memory, because the API runs as several replicas and the
worker is another process. `temporal_sdk` serves the Temporal SDK's own worker metrics.
"""
