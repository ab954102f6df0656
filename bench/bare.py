"""The baseline of the end-to-end figure: S1's shape and nothing else.

One no-op activity per business step of S1 (verify, contact, refund, thank-you, follow-up, close) and the same
timers as `OverchargeRecovery` waits on: the two reply waits (a `wait_condition` timeout that starts once the
message has reached the customer, as `ask_customer`'s does) and the follow-up sleep. Everything else our workflow
does (its payloads, read-model writes, rendering, live state) is what the figure charges us for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

STEP_OPTIONS = dict(start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                             maximum_interval=timedelta(seconds=30)))


@dataclass
class BareTimers:
    reply_timeout: timedelta
    follow_up_delay: timedelta
    satisfaction_timeout: timedelta


@activity.defn(name="bare_step")
def bare_step(step: str) -> None:
    """Does nothing: the baseline pays only for Temporal scheduling and completing one activity."""


@workflow.defn(name="BareS1")
class BareS1:
    @workflow.run
    async def run(self, timers: BareTimers) -> str:
        await self._step("verify")
        await self._ask("contact", timers.reply_timeout)
        await self._step("refund")
        await self._step("thank_you")
        await workflow.sleep(timers.follow_up_delay)
        await self._ask("follow_up", timers.satisfaction_timeout)
        await self._step("close")
        return "recovered"

    async def _step(self, step: str) -> None:
        await workflow.execute_activity(bare_step, step, **STEP_OPTIONS)

    async def _ask(self, step: str, within: timedelta) -> None:
        """Like `ask_customer` when nobody answers: send, then wait out the reply window on a timer."""
        await self._step(step)
        try:
            await workflow.wait_condition(lambda: False, timeout=within)
        except TimeoutError:
            pass
