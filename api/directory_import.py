"""Reading a bulk import of the customer directory (CSV or JSON) into validated records and a report of the rows
refused. A file we cannot read as a whole (not UTF-8, not JSON, no header, unknown columns) is refused with a
4xx naming the problem; a row we cannot take is listed with its number, field and reason. Pure: no database."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, status
from pydantic import ValidationError

from schemas.directory import DirectoryRecordIn, RejectedRow

REQUIRED_COLUMNS = ("customer_key", "name")
COLUMNS = (*REQUIRED_COLUMNS, "phone", "email", "city")


@dataclass
class ReadImport:
    """The records that passed validation, by row number, and every row refused."""

    valid: list[tuple[int, DirectoryRecordIn]] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    received: int = 0


def refused(code: int, detail: str) -> HTTPException:
    return HTTPException(code, f"import refused: {detail}")


def read_import(body: bytes, media_type: str, max_rows: int) -> ReadImport:
    rows = _csv_rows(body) if media_type == "text/csv" else _json_rows(body)
    if len(rows) > max_rows:
        raise refused(status.HTTP_413_CONTENT_TOO_LARGE,
                      f"{len(rows)} records, over the limit of {max_rows} in one import; send it in parts")
    return _validated(rows)


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")  # Excel writes a byte-order mark
    except UnicodeDecodeError as error:
        raise refused(status.HTTP_400_BAD_REQUEST, f"the file is not UTF-8 text (byte {error.start} is "
                      f"{body[error.start:error.start + 1]!r}); export it as UTF-8") from None


def _csv_rows(body: bytes) -> list[tuple[int, Any]]:
    """(row number, {column: value}) per non-blank line after the header; empty cells are left out."""
    text = _text(body)
    if not text.strip():
        raise refused(status.HTTP_422_UNPROCESSABLE_CONTENT,
                      f"the file is empty; send a header line ({','.join(COLUMNS)}) and a line per customer")
    first_line = text.lstrip().splitlines()[0]
    dialect = max(",;\t", key=first_line.count)  # spreadsheets in Finnish locales write ';'
    try:
        lines = list(csv.reader(io.StringIO(text.lstrip(), newline=""), delimiter=dialect, strict=True))
    except csv.Error as error:
        raise refused(status.HTTP_422_UNPROCESSABLE_CONTENT, f"the CSV cannot be read: {error}") from None
    header = _without_trailing_blanks([column.strip().lower() for column in lines[0]])
    _check_header(header)
    rows = [line for line in lines[1:] if any(cell.strip() for cell in line)]
    if not rows:
        raise refused(status.HTTP_422_UNPROCESSABLE_CONTENT, "the file has a header but no customers")
    return [(number, _cells(header, line)) for number, line in enumerate(rows, start=1)]


def _check_header(header: list[str]) -> None:
    unknown = [column for column in header if column not in COLUMNS]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    repeated = sorted({column for column in header if header.count(column) > 1})
    problems = [f"unknown columns {unknown}" if unknown else "", f"missing columns {missing}" if missing else "",
                f"repeated columns {repeated}" if repeated else ""]
    if any(problems):
        raise refused(status.HTTP_422_UNPROCESSABLE_CONTENT, "; ".join(filter(None, problems)) +
                      f" in the header line (the columns are {', '.join(COLUMNS)}; "
                      f"{' and '.join(REQUIRED_COLUMNS)} are required)")


def _without_trailing_blanks(header: list[str]) -> list[str]:
    """Spreadsheets save empty columns past the last one in use: empty cells at the header's end are not columns."""
    while header and not header[-1]:
        header = header[:-1]
    return header


def _cells(header: list[str], line: list[str]) -> dict[str, str] | str:
    """The row's values by column, or why the row as a whole cannot be read."""
    if not any(cell.strip() for cell in line[len(header):]):  # the empty columns a spreadsheet saved past the last
        line = line[:len(header)]
    if len(line) != len(header):
        return f"the row has {len(line)} fields, the header {len(header)} (a stray delimiter or quote?)"
    return {column: cell.strip() for column, cell in zip(header, line, strict=True) if cell.strip()}


def _json_rows(body: bytes) -> list[tuple[int, Any]]:
    try:
        records = json.loads(_text(body))
    except RecursionError:
        raise refused(status.HTTP_400_BAD_REQUEST, "the body is not JSON we can read (nested too deep)") from None
    except ValueError as error:  # not JSON, or a number past Python's 4300 digits
        raise refused(status.HTTP_400_BAD_REQUEST, f"the body is not JSON ({error})") from None
    if not isinstance(records, list):
        raise refused(status.HTTP_422_UNPROCESSABLE_CONTENT, "a JSON import is a list of customer records")
    if not records:
        raise refused(status.HTTP_422_UNPROCESSABLE_CONTENT, "the list of customer records is empty")
    return [(number, record if isinstance(record, dict) else "the record is not a JSON object")
            for number, record in enumerate(records, start=1)]


def _validated(rows: list[tuple[int, Any]]) -> ReadImport:
    result, first_row_of = ReadImport(received=len(rows)), {}
    for number, values in rows:
        if isinstance(values, str):
            result.rejected.append(RejectedRow(row=number, field="row", reason=values))
            continue
        try:
            record = DirectoryRecordIn.model_validate(values)
        except ValidationError as error:
            result.rejected.extend(rejected_reasons(number, error))
            continue
        if (earlier := first_row_of.setdefault(record.customer_key, number)) != number:
            result.rejected.append(RejectedRow(row=number, field="customer_key",
                                               reason=f"the same customer_key as row {earlier}; send each once"))
            continue
        result.valid.append((number, record))
    return result


def rejected_reasons(number: int, error: ValidationError) -> list[RejectedRow]:
    return [RejectedRow(row=number, field=".".join(str(part) for part in problem["loc"]) or "row",
                        reason=_SAID.get(problem["type"], problem["msg"].removeprefix("Value error, ")))
            for problem in error.errors(include_url=False)]


# pydantic's words where they would quote a regular expression at a person
_SAID = {"string_pattern_mismatch": "must be one line of text, without control characters or line breaks"}
