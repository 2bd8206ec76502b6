"""Which system wrote a workbook, and its tracks and metadata."""

from __future__ import annotations

from pathlib import Path

from agent.parsing.filenames import parse_file_name
from agent.parsing.layout import ParsedFile
from agent.parsing.system_a import is_system_a, read_system_a
from agent.parsing.system_b import is_system_b, read_system_b
from agent.parsing.workbook import Workbook
from shared.errors import ErrorCode, InputFileError


def parse_workbook(path: Path, content: bytes, max_rows: int) -> ParsedFile:
    """Parse a trim file's bytes; the file name fills what the sheets do not say."""
    with Workbook(path, content, max_rows) as book:
        if is_system_a(book.sheet_names):
            parsed = read_system_a(book)
        elif is_system_b(book.sheet_names):
            parsed = read_system_b(book)
        else:
            shown = ", ".join(f"'{n}'" for n in book.sheet_names[:6]) or "none"
            raise InputFileError(
                ErrorCode.UNKNOWN_LAYOUT,
                f"No trim-data sheets (System A 'SEC1 TRK1 ...' or System B 'test' / "
                f"'Lin Error'); sheets found: {shown}.",
            )
    from_name = parse_file_name(path.name)
    return ParsedFile(
        system=parsed.system,
        model=parsed.model or from_name.model,  # the sheet is the better witness
        serial=parsed.serial or from_name.serial,
        test_date=from_name.test_date or parsed.test_date,
        tracks=parsed.tracks,
        notes=parsed.notes,
    )
