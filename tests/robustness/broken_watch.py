"""A complaint workflow whose ownership watch breaks: the stand-in for any bug in a watch, for the test that
proves a broken watch stops the case visibly (a failing workflow task) instead of only logging."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from schemas.cases import CaseInput
from schemas.progress import CaseOutcome
from workflows.complaint import ComplaintRecovery
from workflows.supervision import supervised


@workflow.defn(sandboxed=False)  # a test module: its imports (the harness, FastAPI) stay out of the sandbox
class ComplaintWithBrokenWatch(ComplaintRecovery):
    @workflow.run
    @supervised
    async def run(self, case: CaseInput) -> CaseOutcome:
        self.watch(self._broken_watch())
        return await ComplaintRecovery.run.__wrapped__(self, case)

    async def _broken_watch(self) -> None:
        await workflow.sleep(timedelta(seconds=1))
        raise KeyError("injected: the watch looked up a clock that is not there")


@workflow.defn(sandboxed=False)
class ComplaintWhoseWatchBreaksAtTheClose(ComplaintRecovery):
    """Its watch breaks while a person's cancel is closing the case: the stop path is watched too."""

    @workflow.run
    @supervised
    async def run(self, case: CaseInput) -> CaseOutcome:
        self.watch(self._breaks_at_the_close())
        return await ComplaintRecovery.run.__wrapped__(self, case)

    async def _breaks_at_the_close(self) -> None:
        await workflow.wait_condition(lambda: self._closed)
        raise KeyError("injected: the watch broke while the case was closing")
