"""What every phase shares: the server and a client of it, the bench's own database, API keys, task queues."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from sqlmodel import Session
from temporalio.client import Client

from bench.config import BenchConfig
from bench.cpu import CpuMeter
from bench.incidents import INTEGRATOR, TENANT
from bench.server import TemporalServer
from schemas.auth import AccountIn, PrincipalKind, Role, Scope
from schemas.policy import RecoveryPolicy
from settings import Settings
from store.accounts import create_account
from store.api_keys import create_key
from store.db import engine_for, session_for

SUPERVISOR = "bench-supervisor"
SUPERVISOR_PASSWORD = "bench supervisor password"  # a throwaway database: signs in to the console (d)


@dataclass
class Bench:
    config: BenchConfig
    directory: Path
    server: TemporalServer
    client: Client
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    keys: dict[str, str] = field(default_factory=dict)
    measurements: dict[str, Any] = field(default_factory=dict)  # raw numbers per phase, for the JSON

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.directory / 'recovery.db'}"

    def settings(self, queue: str, policy: RecoveryPolicy) -> Settings:
        """A task queue per role ("intake", "ours", "bare", "memory"), so no worker sees another phase's work."""
        return Settings(temporal_address=self.server.address, temporal_namespace=self.server.namespace,
                        temporal_task_queue=f"bench-{self.run_id}-{queue}", database_url=self.database_url,
                        policy=policy)

    @property
    def encrypted(self) -> bool:
        """Whether PAYLOAD_KEYS (from the environment) seals payloads: production's cost, if it is set."""
        return Settings().payload_keys is not None

    def tag(self, phase: str) -> str:
        """External ids carry the phase and the run, so no two phases (or runs on one server) share a case."""
        return f"{phase}-{self.run_id}"

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def cpu_meter(self, **parts: psutil.Process | list[psutil.Process]) -> CpuMeter:
        """Meters the given parts, the bench's own process and, when it is the bench's, the Temporal server."""
        known = {"bench": [psutil.Process()]}
        if self.server.process is not None:
            known["temporal"] = [psutil.Process(self.server.process.pid)]
        given = {name: part if isinstance(part, list) else [part] for name, part in parts.items()}
        return CpuMeter({**known, **given})

    async def finished(self, case_ids: Iterable[str], within: float) -> list[object]:
        """Every workflow's result; a stuck one (a dead worker, a failing activity) fails the bench, not hangs it."""
        ids = list(case_ids)
        results = asyncio.gather(*(self.client.get_workflow_handle(case_id).result() for case_id in ids))
        try:
            return await asyncio.wait_for(results, timeout=within)
        except TimeoutError:
            raise TimeoutError(f"{len(ids)} workflows did not all finish within {within:.0f} s; see the "
                               f"worker's log in {self.directory}") from None

    def prepare_database(self) -> None:
        """Creates the tables, the tenant's staff and two keys: the till that reports incidents, and a supervisor
        who reads and acts."""
        engine_for(self.database_url)
        with session_for(self.database_url) as session:
            create_account(session, TENANT, AccountIn(id=SUPERVISOR, display_name="Bench supervisor",
                                                      email=f"{SUPERVISOR}@example.com", roles={Role.supervisor},
                                                      password=SUPERVISOR_PASSWORD))
            create_triage_owner(session)
            self.keys["till"] = create_key(session, TENANT, INTEGRATOR, PrincipalKind.integrator,
                                           {Scope.incidents_write})[1]
            self.keys["supervisor"] = create_key(session, TENANT, SUPERVISOR, PrincipalKind.person,
                                                 {Scope.cases_read, Scope.cases_act})[1]


def create_triage_owner(session: Session) -> None:
    """The account the policy hands every new case to (`triage_owner`), as a tenant set up for production has it:
    without it each bench case would be unowned and run the escalation watch's timer, which no owned case has."""
    owner = RecoveryPolicy().triage_owner
    create_account(session, TENANT, AccountIn(id=owner, display_name="Bench duty manager",
                                              email=f"{owner}@example.com", roles={Role.agent}))
