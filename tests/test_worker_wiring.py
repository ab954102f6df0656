"""The worker registers its activities through the SDK's public API, by the functions themselves: exactly the
activities the workflows call, through their typed stubs (`workflows/activity_stubs.py`). (The test reads each
function's registered name with the SDK's own, private, reader; the worker needs none.)"""

from __future__ import annotations

from temporalio.activity import _Definition

from schemas.major_incidents import MajorActivity
from tests import harness
from worker import activities, sandbox_providers
from workflows import activity_stubs


def test_the_worker_registers_exactly_the_activities_the_workflows_call(tmp_path):
    settings = harness.test_settings(tmp_path)
    registered = activities(None, settings, sandbox_providers(settings))  # no client needed to list them
    names = [_Definition.must_from_callable(activity).name for activity in registered]
    called = [stub.name for stub in vars(activity_stubs).values() if isinstance(stub, activity_stubs.ActivityStub)]
    assert sorted(names) == sorted(called)
    assert set(MajorActivity) <= set(called)  # the major incident's parent calls its activities through stubs too
