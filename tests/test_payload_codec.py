"""Payload encryption: what Temporal stores about a customer is ciphertext, and only our keys open it.

The end-to-end tests read a real history the way an operator would, with the `temporal` CLI, and look for the
customer's phone number and IBAN in it: absent when our processes encrypt, present in the control without.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from google.protobuf import json_format
from pydantic import BaseModel
from temporalio import workflow
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.failure.v1 import Failure
from temporalio.client import Client, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.auth import VerifiedKeys
from api.limits import RateLimiter
from api.routes import codec as codec_routes
from schemas.auth import AccountIn, PrincipalKind, Role, Scope
from security import codec as codec_module
from security.codec import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    PayloadEncryptionError,
    encrypting,
    load_or_create_dev_keyring,
    new_key_entry,
)
from settings import Settings
from stack.binaries import temporal_cli
from store.accounts import create_account
from store.api_keys import KeyRefused, create_key
from store.db import session_for
from tests.harness import serving

PHONE = "+358401234567"
IBAN = "FI2112345600000785"
K1, K2 = b"1" * 32, b"2" * 32
UI_ORIGIN = "http://localhost:8233"


class Customer(BaseModel):
    name: str
    phone: str
    iban: str | None = None


MAIJA = Customer(name="Maija Meikäläinen", phone=PHONE, iban=IBAN)


def keys(*key_ids: str) -> str:
    """Keyring configuration text for test keys k1 and k2, the first named being current."""
    return ",".join(f"{key_id}:{base64.b64encode({'k1': K1, 'k2': K2}[key_id]).decode()}" for key_id in key_ids)


def converter(config: str) -> DataConverter:
    return encrypting(pydantic_data_converter, EncryptionCodec.from_config(config))


def in_clear(payloads: list[Payload]) -> bool:
    stored = b"".join(payload.SerializeToString() for payload in payloads)
    return PHONE.encode() in stored or IBAN.encode() in stored


# -- the codec ----------------------------------------------------------------------------------------


async def test_a_customer_survives_the_round_trip_and_is_stored_as_ciphertext():
    sealed = await converter(keys("k1")).encode([MAIJA])
    assert not in_clear(sealed) and in_clear(await pydantic_data_converter.encode([MAIJA]))  # and the control
    assert sealed[0].metadata["encoding"] == ENCODING and sealed[0].metadata[KEY_ID_METADATA] == b"k1"
    assert await converter(keys("k1")).decode(sealed, [Customer]) == [MAIJA]


async def test_two_encryptions_of_the_same_customer_differ():
    """A fresh nonce per payload: equal inputs cannot be recognised as equal in the history."""
    first, second = await converter(keys("k1")).encode([MAIJA, MAIJA])
    assert first.data != second.data


async def test_error_messages_naming_a_customer_are_sealed_too():
    failure = Failure()
    await converter(keys("k1")).encode_failure(ApplicationError(f"could not text {PHONE}"), failure)
    assert PHONE.encode() not in failure.SerializeToString()
    assert f"could not text {PHONE}" in str(await converter(keys("k1")).decode_failure(failure))


async def test_after_rotation_old_payloads_still_open_and_new_ones_use_the_new_key():
    before_rotation = await converter(keys("k1")).encode([MAIJA])
    rotated = converter(keys("k2", "k1"))
    assert await rotated.decode(before_rotation, [Customer]) == [MAIJA]
    after_rotation = await rotated.encode([MAIJA])
    assert after_rotation[0].metadata[KEY_ID_METADATA] == b"k2"

    with pytest.raises(PayloadEncryptionError, match="'k1', which is not in the keyring"):
        await converter(keys("k2")).decode(before_rotation, [Customer])  # k1 retired too early


@pytest.mark.parametrize("alter", [lambda data: data[:-1] + bytes([data[-1] ^ 1]), lambda data: data[:5]],
                         ids=["one bit flipped", "truncated"])
async def test_altered_ciphertext_is_refused(alter):
    [sealed] = await converter(keys("k1")).encode([MAIJA])
    sealed.data = alter(sealed.data)
    with pytest.raises(PayloadEncryptionError, match="failed authentication"):
        await converter(keys("k1")).decode([sealed], [Customer])


async def test_payloads_from_before_encryption_pass_through():
    plain = await pydantic_data_converter.encode([MAIJA])
    assert await EncryptionCodec.from_config(keys("k1")).decode(plain) == plain
    assert await converter(keys("k1")).decode(plain, [Customer]) == [MAIJA]


@pytest.mark.parametrize("config, problem", [
    ("", "no payload keys"),
    (base64.b64encode(K1).decode(), "'<key id>:<base64 key>'"),
    ("k1:not base64!", "not valid base64"),
    (f"k1:{base64.b64encode(b'short').decode()}", "AES-256 needs 32"),
    (f"{keys('k1')},{keys('k1')}", "appears twice"),
    (f"bad id:{base64.b64encode(K1).decode()}", "must be 1-64 letters"),
])
def test_a_misconfigured_keyring_fails_at_startup_without_echoing_keys(config, problem):
    with pytest.raises(PayloadEncryptionError, match=problem) as raised:
        EncryptionCodec.from_config(config)
    assert base64.b64encode(K1).decode() not in str(raised.value)


def test_a_new_key_is_a_keyring_entry_that_can_be_put_in_front(capsys):
    assert codec_module.main(["new-key"]) == 0
    entry = capsys.readouterr().out.strip()
    assert re.fullmatch(r"k\d{14}:[A-Za-z0-9+/]{43}=", entry)  # 32 bytes, base64
    assert new_key_entry().partition(":")[2] != new_key_entry().partition(":")[2]
    assert new_key_entry(datetime(2025, 3, 1, 12, 0, tzinfo=UTC)).startswith("k20250301120000:")
    assert EncryptionCodec.from_config(f"{entry},{keys('k1')}").current_key_id == entry.partition(":")[0]


def test_the_dev_keyring_is_created_once_readable_only_by_its_owner(tmp_path):
    path = tmp_path / "var" / "payload-keys"
    created = load_or_create_dev_keyring(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_dev_keyring(path) == created
    assert [p.name for p in path.parent.iterdir()] == ["payload-keys"]  # no drafts left behind
    EncryptionCodec.from_config(created)


# -- the codec server ---------------------------------------------------------------------------------


def codec_app(codec: EncryptionCodec | None) -> tuple[FastAPI, str]:
    """The codec router alone, with a key database of its own; returns the app and a key allowed to decode."""
    database_url = f"sqlite:///{tempfile.mkdtemp()}/keys.db"
    app = FastAPI()
    app.include_router(codec_routes.router)
    app.state.codec = codec
    app.state.settings = Settings(database_url=database_url)
    app.state.verified_keys = VerifiedKeys(ttl_seconds=0)
    app.state.rate_limiter = RateLimiter(per_second=0, burst=1)
    app.state.failed_auth_limiter = RateLimiter(per_second=0, burst=1)
    with session_for(database_url) as session:
        create_account(session, "acme", AccountIn(id="ann.admin", display_name="Ann", email="ann@example.com",
                                                  roles={Role.admin}))
        key = create_key(session, "ops", "temporal-ui", PrincipalKind.operator)[1]
    return app, key


@asynccontextmanager
async def codec_server_client(codec: EncryptionCodec | None) -> AsyncIterator[httpx.AsyncClient]:
    app, key = codec_app(codec)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api",
                                 headers={"Authorization": f"Bearer {key}"}) as client:
        yield client


async def test_a_tenants_administrator_cannot_decode_every_tenants_payloads():
    """Review major 7: decoding opens every tenant's histories, so no tenant's role holds it; the operator's key
    (made with the command line, never over a tenant's `/keys`) does."""
    app, _ = codec_app(EncryptionCodec.from_config(keys("k1")))
    with session_for(app.state.settings.database_url) as session:
        admin_key = create_key(session, "acme", "ann.admin", PrincipalKind.person)[1]  # all its roles allow
        with pytest.raises(KeyRefused):
            create_key(session, "acme", "ann.admin", PrincipalKind.person, {Scope.payloads_decode})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api",
                                 headers={"Authorization": f"Bearer {admin_key}"}) as admin:
        refused = await admin.post("/codec/decode", json={"payloads": []}, headers={"X-Namespace": "default"})
    assert refused.status_code == 403 and "payloads:decode" in refused.text


def as_json(payloads: list[Payload]) -> dict:
    return json_format.MessageToDict(Payloads(payloads=payloads))


async def test_the_codec_server_seals_and_opens_payloads_in_temporal_json():
    plain = as_json(await pydantic_data_converter.encode([MAIJA]))
    headers = {"X-Namespace": "default"}
    async with codec_server_client(EncryptionCodec.from_config(keys("k2", "k1"))) as api:
        sealed = await api.post("/codec/encode", json=plain, headers=headers)
        assert sealed.status_code == 200, sealed.text
        [payload] = sealed.json()["payloads"]
        assert base64.b64decode(payload["metadata"]["encoding"]) == ENCODING
        assert base64.b64decode(payload["metadata"][KEY_ID_METADATA]) == b"k2"
        assert PHONE not in sealed.text and IBAN not in sealed.text

        opened = await api.post("/codec/decode", json=sealed.json(), headers=headers)
        assert opened.status_code == 200, opened.text
        assert opened.json() == plain


async def test_the_codec_server_says_why_it_cannot_open_a_payload():
    sealed = as_json(await converter(keys("k1")).encode([MAIJA]))
    async with codec_server_client(EncryptionCodec.from_config(keys("k2"))) as api:
        unknown_key = await api.post("/codec/decode", json=sealed)
        not_payloads = await api.post("/codec/decode", json={"payloads": "nope"})
        not_json = await api.post("/codec/decode", content=b"payloads", headers={"Content-Type": "text/plain"})
    assert unknown_key.status_code == 422 and "'k1'" in unknown_key.json()["detail"]
    assert not_payloads.status_code == 400
    assert not_json.status_code == 415
    async with codec_server_client(None) as api:
        assert (await api.post("/codec/decode", json=sealed)).status_code == 404


async def test_the_temporal_ui_may_call_the_codec_server_from_its_origin_and_no_other_may():
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-namespace"}
    async with codec_server_client(EncryptionCodec.from_config(keys("k1"))) as api:
        ui = await api.options("/codec/decode", headers={"Origin": UI_ORIGIN, **preflight})
        stranger = await api.options("/codec/decode", headers={"Origin": "https://evil.example", **preflight})
        decoded = await api.post("/codec/decode", json={"payloads": []}, headers={"Origin": UI_ORIGIN})
    assert ui.status_code == 204 and ui.headers["access-control-allow-origin"] == UI_ORIGIN
    assert {"content-type", "x-namespace"} <= set(ui.headers["access-control-allow-headers"].split(","))
    assert "access-control-allow-origin" not in stranger.headers
    assert decoded.headers["access-control-allow-origin"] == UI_ORIGIN


# -- end to end: a real server's history, read with the temporal CLI -----------------------------------


@workflow.defn(sandboxed=False)  # this module imports FastAPI and uvicorn, which the sandbox cannot load
class TextCustomer:
    """Receives a customer; returns, or fails with, a text that names their phone number."""

    @workflow.run
    async def run(self, customer: Customer) -> str:
        if customer.iban is None:
            raise ApplicationError(f"no account to refund to; could not text {customer.phone}", non_retryable=True)
        return f"texted {customer.phone} about a refund to {customer.iban}"


async def run_text_customer(client: Client, customer: Customer) -> str:
    """Runs the workflow with `client`'s data converter on both sides; returns the workflow id."""
    task_queue = f"codec-{uuid.uuid4().hex[:12]}"
    workflow_id = f"text-customer-{uuid.uuid4().hex[:12]}"
    async with Worker(client, task_queue=task_queue, workflows=[TextCustomer]):
        handle = await client.start_workflow(TextCustomer.run, customer, id=workflow_id, task_queue=task_queue,
                                             execution_timeout=timedelta(seconds=30))
        try:
            await handle.result()
        except WorkflowFailureError:
            pass  # the failing run is there for its failure message in the history
    return workflow_id


async def history_shown_by_cli(env: WorkflowEnvironment, workflow_id: str, *options: str) -> str:
    """What `temporal workflow show` lets an operator, or anyone with the database, read: its JSON shows
    payload bytes as base64, so every string is read both as it is and base64-decoded."""
    process = await asyncio.create_subprocess_exec(
        temporal_cli(), "workflow", "show", "--workflow-id", workflow_id, "--output", "json",
        "--address", env.client.service_client.config.target_host, "--namespace", env.client.namespace, *options,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()
    return "\n".join(_readings(json.loads(out)))


def _readings(node: object) -> list[str]:
    if isinstance(node, dict):
        node = list(node.values())
    if isinstance(node, list):
        return [text for child in node for text in _readings(child)]
    if not isinstance(node, str):
        return []
    try:
        return [node, base64.b64decode(node, validate=True).decode(errors="ignore")]
    except ValueError:
        return [node]


def client_with(env: WorkflowEnvironment, data_converter: DataConverter) -> Client:
    return Client(env.client.service_client, namespace=env.client.namespace, data_converter=data_converter)


@pytest.fixture(scope="module")
async def encrypted_runs(dev_server: WorkflowEnvironment) -> list[str]:
    """Ids of two encrypted runs on the dev server: one completed, one failed with the phone in its error."""
    client = client_with(dev_server, converter(keys("k1")))
    without_account = MAIJA.model_copy(update={"iban": None})
    return [await run_text_customer(client, MAIJA), await run_text_customer(client, without_account)]


async def test_the_history_holds_no_personal_data_in_clear(dev_server: WorkflowEnvironment, encrypted_runs):
    for workflow_id in encrypted_runs:
        history = await history_shown_by_cli(dev_server, workflow_id)
        assert PHONE not in history and IBAN not in history and "could not text" not in history
        assert ENCODING.decode() in history


async def test_without_the_codec_the_same_history_shows_the_customer(dev_server: WorkflowEnvironment):
    """The control: proves the CLI output above would have shown the phone number if it were stored."""
    workflow_id = await run_text_customer(client_with(dev_server, pydantic_data_converter), MAIJA)
    history = await history_shown_by_cli(dev_server, workflow_id)
    assert PHONE in history and IBAN in history


async def test_the_cli_reads_encrypted_histories_through_the_codec_server(dev_server: WorkflowEnvironment,
                                                                          encrypted_runs):
    """The same protocol the Web UI speaks, spoken by Temporal's own client to our endpoint over real HTTP."""
    app, key = codec_app(EncryptionCodec.from_config(keys("k1")))
    async with serving(app) as base_url:
        completed, failed = [await history_shown_by_cli(dev_server, run, "--codec-endpoint", f"{base_url}/codec",
                                                        "--codec-auth", f"Bearer {key}")
                             for run in encrypted_runs]
    assert f"texted {PHONE} about a refund to {IBAN}" in completed
    assert f"could not text {PHONE}" in failed
