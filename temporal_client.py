"""One way to connect to Temporal, used by the API, the worker, the tests and the benchmark alike."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime

from security.codec import EncryptionCodec, encrypting
from settings import Settings


def payload_codec(settings: Settings) -> EncryptionCodec | None:
    if settings.payload_keys is None:
        return None
    return EncryptionCodec.from_config(settings.payload_keys.get_secret_value())


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic models as JSON payloads, sealed with AES-GCM when keys are configured: Temporal's server,
    its database and its UI then never hold a customer's personal data in clear."""
    codec = payload_codec(settings)
    return pydantic_data_converter if codec is None else encrypting(pydantic_data_converter, codec)


async def connect(settings: Settings, runtime: Runtime | None = None, lazy: bool = False) -> Client:
    """`lazy`: connect on first use, so a process can start (and say it is not ready) while Temporal is away."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        tls=settings.temporal_tls or settings.temporal_api_key is not None,
        api_key=settings.temporal_api_key,
        runtime=runtime,
        lazy=lazy,
    )
