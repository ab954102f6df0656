"""One way to connect to Temporal, used by the API, the worker, the tests and the benchmark alike."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from settings import Settings


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic models as JSON payloads: the contracts in `schemas/` cross Temporal unchanged."""
    return pydantic_data_converter


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        tls=settings.temporal_tls or settings.temporal_api_key is not None,
        api_key=settings.temporal_api_key,
    )
