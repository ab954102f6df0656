"""Running the whole system on one machine: the embedded Temporal server, the worker and the API."""
