"""The codec server: the Temporal Web UI and CLI hold only ciphertext, and ask us to open payloads for a person.

Temporal's remote-codec protocol: `POST <endpoint>/decode` and `POST <endpoint>/encode` take and return a
`Payloads` protobuf in protobuf's JSON form, `{"payloads": [{"metadata": {"encoding": "<base64>"}, "data":
"<base64>"}]}`. Point the UI (`temporal server start-dev --ui-codec-endpoint http://localhost:8000/codec`, or
its Codec Server setting) or the CLI (`--codec-endpoint http://localhost:8000/codec`) here. Both send an
`X-Namespace` header; one keyring serves this deployment's namespace, so the header only has to be allowed.

The UI calls from its own origin, so the browser sends a CORS preflight first; the preflight carries no
credentials, so it must stay open even when the POSTs require an API key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from api.auth import require
from api.errors import Problem
from schemas.auth import Principal, Scope
from security.codec import PayloadEncryptionError

router = APIRouter(prefix="/codec", tags=["codec"])

# The dev server's UI (`make run`), under both names a browser may use; set `app.state.codec_ui_origins`
# to the deployment's UI origin(s) elsewhere (Temporal Cloud's UI is https://cloud.temporal.io).
DEV_UI_ORIGINS = ("http://localhost:8233", "http://127.0.0.1:8233")

_PAYLOADS_JSON = {
    "type": "object",
    "properties": {"payloads": {"type": "array", "items": {
        "type": "object",
        "properties": {"metadata": {"type": "object", "additionalProperties": {"type": "string", "format": "byte"}},
                       "data": {"type": "string", "format": "byte"}},
    }}},
}
_JSON_BODY = {"application/json": {"schema": _PAYLOADS_JSON}}
_DOCS = {"openapi_extra": {"requestBody": {"required": True, "content": _JSON_BODY}},
         "responses": {200: {"content": _JSON_BODY}, 400: {"model": Problem, "description": "Not Payloads JSON."},
                       404: {"model": Problem, "description": "Payload encryption is not configured here."},
                       415: {"model": Problem, "description": "Not sent as application/json."},
                       422: {"model": Problem, "description": "A payload sealed with an unknown key, or altered."}}}


def _cors_headers(request: Request) -> dict[str, str]:
    """CORS for the Temporal UI's origin only. Credentials and `Authorization` are allowed for the UI's
    "include cross-origin credentials" and "pass access token" options."""
    origin = request.headers.get("origin")
    if origin not in getattr(request.app.state, "codec_ui_origins", DEV_UI_ORIGINS):
        return {"Vary": "Origin"}
    return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "content-type,x-namespace,authorization",
            "Access-Control-Allow-Credentials": "true", "Access-Control-Max-Age": "600", "Vary": "Origin"}


def _codec(request: Request) -> PayloadCodec:
    codec: PayloadCodec | None = getattr(request.app.state, "codec", None)
    if codec is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "payload encryption is not configured on this server",
                            headers=_cors_headers(request))
    return codec


async def _payloads(request: Request) -> Payloads:
    """Parsed with protobuf's JSON mapping, as the protocol demands (field names, base64 bytes). JSON only:
    a browser must then preflight, so no page but the allowed UI can make it call us; fields a newer UI
    sends that this SDK's protos lack are ignored rather than failing the whole decode."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send the payloads as application/json",
                            headers=_cors_headers(request))
    try:
        return json_format.Parse(await request.body(), Payloads(), ignore_unknown_fields=True)
    except (json_format.ParseError, UnicodeDecodeError) as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"body is not Payloads JSON: {error}",
                            headers=_cors_headers(request)) from None


CodecDep = Annotated[PayloadCodec, Depends(_codec)]
# Opening payloads shows personal data in clear: only for keys that carry this scope.
DecoderDep = Annotated[Principal, Depends(require(Scope.payloads_decode))]
PayloadsBody = Annotated[Payloads, Depends(_payloads)]
Operation = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


async def _reply(request: Request, operation: Operation, payloads: Payloads) -> Response:
    try:
        result = Payloads(payloads=await operation(payloads.payloads))
    except PayloadEncryptionError as error:  # unknown key or altered ciphertext: say which key, never any data
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error), headers=_cors_headers(request)) from None
    return Response(json_format.MessageToJson(result), media_type="application/json", headers=_cors_headers(request))


@router.post("/decode", **_DOCS)
async def decode(request: Request, _decoder: DecoderDep, codec: CodecDep, payloads: PayloadsBody) -> Response:
    """Opens sealed payloads for the UI or CLI; payloads that were never sealed come back unchanged."""
    return await _reply(request, codec.decode, payloads)


@router.post("/encode", **_DOCS)
async def encode(request: Request, _decoder: DecoderDep, codec: CodecDep, payloads: PayloadsBody) -> Response:
    """Seals payloads a person typed into the UI or CLI (a signal's input, say) with the current key."""
    return await _reply(request, codec.encode, payloads)


@router.options("/decode", include_in_schema=False)
@router.options("/encode", include_in_schema=False)
async def preflight(request: Request) -> Response:
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=_cors_headers(request))
