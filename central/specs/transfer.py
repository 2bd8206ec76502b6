"""Import and export of the whole table, for the command line and the /specs page alike.

Import is all-or-what-is-good: every row that cannot be used is reported by
its row number; the good rows are saved as one change of the table, unless
`strict`, when one bad row means nothing is saved. A row whose model or alias
another model owns is such a bad row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from central.auth.audit import Action, Actor
from central.db import Database
from central.specs import files, store
from central.specs.files import RowProblem
from shared.errors import SpecFileError

Format = Literal["csv", "xlsx"]
DEFAULT_REASON = "imported from {name}"


@dataclass
class ImportReport:
    name: str
    strict: bool
    rows_read: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    saved: store.SaveReport | None = None

    @property
    def imported(self) -> bool:
        return self.saved is not None

    def lines(self) -> list[str]:
        """What the command line prints and the page shows, one fact a line."""
        out = [f"{self.name}: {self.rows_read} row(s) read"]
        if self.saved is not None:
            out.append(
                f"added {len(self.saved.added)}, changed {len(self.saved.changed)}, unchanged "
                f"{len(self.saved.unchanged)}; table version {self.saved.version}"
            )
        elif self.strict and self.problems:
            out.append("--strict: nothing was imported because some rows cannot be used")
        out += [str(p) for p in self.problems]
        return out


def import_bytes(
    db: Database,
    name: str,
    content: bytes,
    actor: Actor,
    strict: bool = False,
    reason: str | None = None,
) -> ImportReport:
    """Raises SpecFileError when the file as a whole cannot be read."""
    parsed = files.parse_file(content)
    report = ImportReport(name=name, strict=strict, rows_read=parsed.rows_read)
    report.problems = list(parsed.problems)
    if strict and report.problems:
        return report
    why = reason or DEFAULT_REASON.format(name=name[:100])
    try:
        saved = store.save_specs(
            db, parsed.rows, actor, why, Action.SPEC_IMPORT, skip_refused=not strict
        )
    except store.SpecStoreError as exc:  # strict: a name another model owns
        report.problems += [
            RowProblem(parsed.row_numbers.get(m, 0), "model", why)
            for m, why in exc.problems.items()
        ]
        return report
    report.problems += [
        RowProblem(parsed.row_numbers.get(m, 0), "model", why) for m, why in saved.refused.items()
    ]
    report.problems.sort(key=lambda p: p.row)
    report.saved = saved
    return report


def import_path(
    db: Database, path: Path, actor: Actor, strict: bool = False, reason: str | None = None
) -> ImportReport:
    """The file's size is checked before its bytes are read."""
    try:
        size = path.stat().st_size
        if size > files.MAX_IMPORT_BYTES:
            raise SpecFileError(f"{path} is {size:,} bytes, over {files.MAX_IMPORT_BYTES:,}")
        content = path.read_bytes()
    except OSError as exc:
        raise SpecFileError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    return import_bytes(db, path.name, content, actor, strict, reason)


def export_bytes(db: Database, kind: Format) -> bytes:
    specs = [s.spec for s in store.list_specs(db, limit=files.MAX_IMPORT_ROWS)]
    return files.export_xlsx(specs) if kind == "xlsx" else files.export_csv(specs)


def format_of(path: Path) -> Format:
    return "xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv"
