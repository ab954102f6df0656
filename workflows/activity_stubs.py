"""Typed stubs for the activities the workflows call: each names its activity, what it takes and what it returns
once, so a step reads `verification = await verify_incident(request, **_READ_MODEL)` and gets a typed result. The
worker registers the functions of `activities/` under these names (`worker.py`, `tests/test_worker_wiring.py`);
the workflows never import the adapters (nor their database drivers) themselves."""

from __future__ import annotations

import asyncio
from typing import Any, Generic, TypeVar

from temporalio import workflow

from workflows.supervision import stop_came_with_the_result

with workflow.unsafe.imports_passed_through():
    from schemas.cases import Verification
    from schemas.compensation import CompensationGranted, CompensationRequest
    from schemas.major_incidents import (
        BatchOpened,
        MajorActivity,
        MessageChildren,
        OpenBatch,
        StatusChange,
        StopChildren,
        StopReport,
    )
    from schemas.messages import CodeCheck, CodeMessage, MessageReceipt, OutboundMessage
    from schemas.privacy import AccessQuery, AccessReport
    from schemas.refunds import RefundRequest, RefundResult
    from schemas.steps import ActivityName, CaseEvent, CloseRequest, LookupRequest, LookupResult, VerifyRequest
    from schemas.webhooks import AttemptRequest, AttemptResult, DisableRequest, WebhookActivity

In = TypeVar("In")
Out = TypeVar("Out")


class ActivityStub(Generic[In, Out]):
    """Calls one activity by its registered name with the options the step chose (timeouts, retry policy)."""

    def __init__(self, name: ActivityName | WebhookActivity | MajorActivity, result: type[Out] | None = None,
                 money: bool = False) -> None:
        self.name, self.result, self.money = name, result, money

    async def __call__(self, argument: In, **options: Any) -> Out:
        result = await workflow.execute_activity(self.name, argument, result_type=self.result, **options)
        # The step is done and recorded; the story ends here, as it was asked to. Never right after money moved
        # or its outcome was recorded: the story records what it paid first (no stop reaches it meanwhile).
        if not self.money and stop_came_with_the_result():
            raise asyncio.CancelledError(f"stopped after {self.name}")
        return result


verify_incident = ActivityStub[VerifyRequest, Verification](ActivityName.verify_incident, Verification)
look_up_customer = ActivityStub[LookupRequest, LookupResult](ActivityName.look_up_customer, LookupResult)
send_message = ActivityStub[OutboundMessage, MessageReceipt](ActivityName.send_message, MessageReceipt)
send_destination_code = ActivityStub[CodeMessage, MessageReceipt](ActivityName.send_destination_code, MessageReceipt)
check_destination_code = ActivityStub[CodeCheck, bool](ActivityName.check_destination_code, bool)
refund = ActivityStub[RefundRequest, RefundResult](ActivityName.refund, RefundResult, money=True)
refund_outcome_unknown = ActivityStub[RefundRequest, None](ActivityName.refund_outcome_unknown, money=True)
grant_compensation = ActivityStub[CompensationRequest, CompensationGranted](ActivityName.grant_compensation,
                                                                          CompensationGranted, money=True)
record_case_event = ActivityStub[CaseEvent, None](ActivityName.record_case_event)
close_case = ActivityStub[CloseRequest, None](ActivityName.close_case)
gather_access_records = ActivityStub[AccessQuery, AccessReport](ActivityName.gather_access_records, AccessReport)
attempt_webhook = ActivityStub[AttemptRequest, AttemptResult](WebhookActivity.attempt, AttemptResult)
disable_webhook_endpoint = ActivityStub[DisableRequest, None](WebhookActivity.disable_endpoint)
# The major incident's parent (`workflows/major_incident.py`); `stop_came_with_the_result` is never true there (it
# has no story to stop), so these issue exactly the commands its calls by name did.
open_major_batch = ActivityStub[OpenBatch, BatchOpened](MajorActivity.open_batch, BatchOpened)
record_major_status = ActivityStub[StatusChange, None](MajorActivity.record_status)
stop_major_children = ActivityStub[StopChildren, StopReport](MajorActivity.stop_children, StopReport)
message_major_children = ActivityStub[MessageChildren, None](MajorActivity.message_children)
