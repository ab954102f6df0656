"""`python -m api`: the API process alone (production runs several behind a load balancer)."""

import uvicorn

from api.app import create_app
from settings import get_settings

if __name__ == "__main__":
    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_level="info")
