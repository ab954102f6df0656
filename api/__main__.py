"""`python -m api`: the API, as `API_PROCESSES` uvicorn worker processes on one port (default: one per usable core;
the HTTP edge is what limits intake, and one Python process uses one core). Production may also run several of
these behind a load balancer. Every process reads its settings from the environment, as this one does."""

import sys

import uvicorn

from settings import MissingPayloadKeys, get_settings
from store.db import engine_for

if __name__ == "__main__":
    settings = get_settings()
    try:
        settings.require_payload_keys()
    except MissingPayloadKeys as missing:
        sys.exit(f"refusing to start: {missing}")
    engine_for(settings.database_url)  # the schema migrated once, here, before the processes below start
    uvicorn.run("api.app:create_app", factory=True, workers=settings.api_processes,
                host=settings.api_host, port=settings.api_port, log_level="info")
