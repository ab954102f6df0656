"""The scaffold: `python -m workflows.new <kind>` writes a new recovery kind that runs as it is, for the developer
to fill in with its story: its declaration (`kinds/<kind>.py`: typed details, contact order, SLA targets,
follow-up delay, what its messages carry), its workflow (`workflows/<kind>.py`), its first message in fi, sv and
en (`messages/templates/<kind>/`) and a scenario test over the REST API that records its replay history. It
changes no existing file: it prints the one line that switches the kind on. See docs/adding-a-workflow.md."""

from __future__ import annotations

import keyword
import re
import sys
from enum import StrEnum
from pathlib import Path

from schemas.channels import Language

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = "kinds/__init__.py"
SKELETON = Path(__file__).parent / "skeleton"  # the files it writes, with `{{kind}}` to fill in
# A kind becomes a member of a str enum (IncidentKind), a module and an identifier: a Python keyword is no
# module name, and a name the enum or str already has (mro, name, value, count, format, title) would shadow it.
_TAKEN = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(StrEnum)) | frozenset(dir(str)) \
    | {"mro", "name", "value"}


def files_for(kind: str) -> dict[str, str]:
    """Each file the scaffold writes, by its path in the repository: the skeleton's, `{{kind}}` and `{{Kind}}`
    (the workflow class's prefix) filled in."""
    camel = "".join(part.title() for part in kind.split("_"))
    places = {"kind.py": f"kinds/{kind}.py", "workflow.py": f"workflows/{kind}.py",
              "test.py": f"tests/scenarios/test_{kind}.py",
              **{f"first_contact.{language}.j2": f"messages/templates/{kind}/first_contact.{language}.j2"
                 for language in Language}}
    return {path: (SKELETON / f"{name}.tmpl").read_text().replace("{{kind}}", kind).replace("{{Kind}}", camel)
            for name, path in places.items()}


def scaffold(kind: str, root: Path = ROOT) -> list[str]:
    """Writes the kind's files under `root`; refuses a name that is not a new snake_case kind."""
    if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", kind) or len(kind) > 40:
        raise SystemExit(f"'{kind}': a kind is a snake_case name of at most 40 characters, such as parcel_lost")
    if kind in _TAKEN:
        raise SystemExit(f"'{kind}': a Python keyword or a name str and enums already have; choose another")
    files = files_for(kind)
    existing = [path for path in files if (root / path).exists()]
    if existing or (root / "messages/templates" / kind).exists():
        raise SystemExit(f"'{kind}' exists already: {existing or 'its templates'}")
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return sorted(files)


def next_steps(kind: str, written: list[str]) -> str:
    return "\n".join([
        f"Wrote {len(written)} files:", *(f"  {path}" for path in written), "",
        f"1. Switch the kind on: add this line to ADDED in {REGISTRY}:", f'       "{kind}",', "",
        "2. Fill in, each file says where (docs/adding-a-workflow.md maps a story to steps):",
        f"   - kinds/{kind}.py: the details integrators send, channels, SLA targets, follow-up delay, messages;",
        f"   - workflows/{kind}.py: the story, with the steps of workflows/steps.py, and the capabilities it mixes in;",
        f"   - messages/templates/{kind}/: each message in fi, sv and en (the facts they may name are listed there);",
        f"   - tests/scenarios/test_{kind}.py: the story as the customer and staff live it, over the REST API.",
        "", "3. Run its tests, then record its replay history (once; never again after cases run):",
        f"       .venv/bin/python -m pytest tests/scenarios/test_{kind}.py tests/test_message_quality.py -k {kind}",
        f"       RECORD_HISTORY={kind} .venv/bin/python -m pytest tests/scenarios/test_{kind}.py",
        "       .venv/bin/python -m pytest tests/replay"])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m workflows.new <kind>   (a snake_case name, such as parcel_lost)")
    print(next_steps(sys.argv[1], scaffold(sys.argv[1])))
