"""`python -m bench.bare_worker`: one worker process for the bare baseline, set up as `worker.build_worker`
sets up ours (same sandbox, data converter, activity threads), so the two differ only in what they run."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor

from temporalio.worker import Worker

from bench.bare import BareS1, bare_step
from settings import get_settings
from temporal_client import connect
from workflows.sandbox import workflow_runner


async def main() -> None:
    settings = get_settings()
    client = await connect(settings)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with Worker(client, task_queue=settings.temporal_task_queue, workflows=[BareS1], activities=[bare_step],
                      workflow_runner=workflow_runner(),
                      activity_executor=ThreadPoolExecutor(max_workers=settings.worker_activity_threads),
                      max_concurrent_activities=settings.worker_activity_threads):
        await stop.wait()


if __name__ == "__main__":
    status = 0
    try:
        asyncio.run(main())
    except BaseException:  # noqa: BLE001  (reported, then the same exit path: see below)
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # the Temporal core can abort in interpreter finalisation (sdk-python #300)
