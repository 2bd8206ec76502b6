"""The /specs pages: QA's table to read (everyone signed in) and to change (admins).

An edit is two steps: the form is checked field by field and the change is
previewed on the model's recent units ("this change turns 14 of the 120
FAILs among the last 500 units into PASS", central/specs/preview.py); only
then does Save write it, with the reason, as a new version of the table
(versioned and audited by central/specs/store.py). Imports and exports are
here too, with the command line's rules (central/specs/transfer.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from central.auth.users import Role
from central.specs import files, preview, sigma, store, transfer
from central.specs.record import COLUMNS, SpecRow
from central.web.auth import actor, login_required, role_required
from central.web.context import context
from shared.errors import SpecFileError
from shared.spec_wire import MAX_REANALYSE_DAYS

bp = Blueprint("specs", __name__, template_folder="templates")

MAX_SEARCH = 64
DONE = {
    "saved": "Saved: the stations judge {name} by the new version from their next sync on.",
    "added": "Model {name} added.",
    "sigma": "Decision recorded for {name}.",
}
#: The edit form's fields in page order, with the label QA reads.
FIELDS = (
    ("model", "Model"),
    ("aliases", "Aliases (comma separated)"),
    ("policy", "Policy (station, spec, strict; blank: from the row)"),
    ("linearity_spec", "Linearity spec (e.g. ± 0.5% (Absolute), 0.01 V, See Chart)"),
    ("linearity_unit", "Linearity unit (% or V)"),
    ("linearity_type", "Linearity type"),
    ("linearity_note", "Linearity note"),
    ("angle_nominal", "Electrical angle nominal (e.g. 340° ± 2°)"),
    ("angle_tolerance", "Angle tolerance"),
    ("angle_tolerance_type", "Tolerance reads as (symmetric, range, bilateral, min, max)"),
    ("resistance_min", "Resistance min (e.g. 950 - 1,050 Ω)"),
    ("resistance_max", "Resistance max"),
    ("exclude_points", "Points excluded (e.g. 0-1, 48-50)"),
    ("sigma_threshold", "Sigma threshold (approved)"),
    ("resistance_in_verdict", "Resistance joins the verdict (yes/no)"),
    ("angle_in_verdict", "Measured angle joins the verdict (yes/no)"),
    ("element_type", "Element type"),
    ("product_class", "Product class"),
)


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _search_args() -> dict[str, str]:
    return {k: request.args.get(k, "")[:MAX_SEARCH] for k in ("q", "element", "cls")}


def _list_page(report: transfer.ImportReport | None = None, error: str | None = None) -> Any:
    db = context().db
    args = _search_args()
    rows = store.list_specs(
        db, args["q"] or None, args["element"] or None, args["cls"] or None, limit=1000
    )
    kinds, classes = store.facets(db)
    status = 400 if error or (report and report.problems and not report.imported) else 200
    page = render_template(
        "specs/list.html",
        rows=rows,
        args=args,
        kinds=kinds,
        classes=classes,
        version=store.table_version(db),
        report=report,
        error=error,
    )
    return page, status


@bp.get("/specs")
@login_required
def spec_list() -> Any:
    return _list_page()


@bp.get("/specs/export.<kind>")
@login_required
def spec_export(kind: str) -> Any:
    if kind not in ("csv", "xlsx"):
        abort(404)
    content = transfer.export_bytes(context().db, kind)  # type: ignore[arg-type]
    mimetype = (
        "text/csv"
        if kind == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="model-specs.{kind}"'},
    )


@bp.post("/specs/import")
@role_required(Role.ADMIN)
def spec_import() -> Any:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _list_page(error="Choose a CSV or XLSX file to import.")
    content = upload.stream.read(files.MAX_IMPORT_BYTES + 1)
    name = upload.filename[:100]
    try:
        report = transfer.import_bytes(
            context().db,
            name,
            content,
            actor(),
            strict=request.form.get("strict") == "on",
            reason=request.form.get("reason", "").strip() or None,
        )
    except SpecFileError as exc:
        return _list_page(error=f"{name} was not imported: {exc.message}")
    return _list_page(report=report)


# --------------------------------------------------------------------------- one model


def _form_values(spec: SpecRow | None) -> dict[str, str]:
    if spec is None:
        return dict.fromkeys(COLUMNS, "")
    values = files.export_values(spec)
    return {c: "" if v is None else str(v) for c, v in zip(COLUMNS, values, strict=True)}


def _model_page(
    stored: store.StoredSpec | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    shown: preview.Preview | None = None,
    status: int = 200,
    reason: str = "",
    reanalyse_days: str = "0",
) -> Any:
    db = context().db
    model = stored.spec.model if stored else values.get("model", "")
    page = render_template(
        "specs/model.html",
        stored=stored,
        values=values,
        fields=FIELDS,
        errors=errors or {},
        preview=shown,
        history=store.history(db, stored.spec.model) if stored else [],
        threshold=sigma.threshold_state(db, stored) if stored else None,
        model=model,
        reason=reason,
        reanalyse_days=reanalyse_days,
        max_days=MAX_REANALYSE_DAYS,
        message=_done_message(),
    )
    return page, status


def _done_message() -> str | None:
    template = DONE.get(request.args.get("done", ""))
    return template.format(name=request.args.get("name", "")[:64]) if template else None


@bp.get("/specs/new")
@role_required(Role.ADMIN)
def spec_new() -> Any:
    return _model_page(None, _form_values(None))


@bp.get("/specs/m/<path:model>")
@login_required
def spec_model(model: str) -> Any:
    stored = store.get_spec(context().db, model[:MAX_SEARCH])
    if stored is None:
        abort(404, description=f"No spec for model {model[:64]!r}.")
    if stored.spec.model != model:  # an alias: the page lives at the model's own name
        return redirect(url_for("specs.spec_model", model=stored.spec.model), 303)
    return _model_page(stored, _form_values(stored.spec))


def _checked_form(stored: store.StoredSpec | None) -> tuple[SpecRow | None, dict[str, str]]:
    values = {c: request.form.get(c, "")[: files.MAX_CELL_CHARS + 1] for c in COLUMNS}
    if stored is not None:
        values["model"] = stored.spec.model  # the key; renaming is a new model
    spec, problems = files.read_row(values)
    errors: dict[str, str] = {}
    for problem in problems:
        column = (problem.column or "model").split(".")[0]
        column = column if column in COLUMNS else "model"
        errors[column] = (errors.get(column, "") + " " + problem.message).strip()
    return spec, errors


def _days() -> tuple[str, int | None]:
    text = request.form.get("reanalyse_days", "0").strip()[:6] or "0"
    try:
        days = int(text)
    except ValueError:
        return text, None
    return text, days if 0 <= days <= MAX_REANALYSE_DAYS else None


@bp.post("/specs/save")
@role_required(Role.ADMIN)
def spec_save() -> Any:
    """Preview (action=preview) or save (action=save) the form; new or existing model."""
    db = context().db
    target = request.form.get("original", "")[:MAX_SEARCH]
    stored = store.get_spec(db, target) if target else None
    if target and stored is None:
        abort(404, description=f"No spec for model {target!r}.")
    values = {c: request.form.get(c, "")[: files.MAX_CELL_CHARS] for c in COLUMNS}
    if stored is not None:
        values["model"] = stored.spec.model
    reason = request.form.get("reason", "")[: store.MAX_REASON]
    days_text, days = _days()
    spec, errors = _checked_form(stored)
    if days is None:
        errors["reanalyse_days"] = f"must be a whole number of days from 0 to {MAX_REANALYSE_DAYS}"
    if stored is None and spec is not None and store.get_spec(db, spec.model) is not None:
        errors["model"] = f"model {spec.model} already has a spec; edit it on its page"
    if spec is None or errors:
        return _model_page(
            stored, values, errors, status=400, reason=reason, reanalyse_days=days_text
        )
    names = [spec.model, *spec.aliases]
    before = stored.spec.for_station() if stored else None
    shown = preview.preview_change(db, spec.model, names, before, spec.for_station())
    if request.form.get("action") != "save":
        return _model_page(stored, values, shown=shown, reason=reason, reanalyse_days=days_text)
    if not reason.strip():
        errors["reason"] = "say why the spec changes (kept with the change and in the audit log)"
        return _model_page(stored, values, errors, shown, 400, reason, days_text)
    try:
        report = store.save_specs(db, [spec], actor(), reason, reanalyse_days=days or 0)
    except store.SpecStoreError as exc:
        errors["aliases"] = exc.message
        return _model_page(stored, values, errors, shown, 400, reason, days_text)
    done = "added" if report.added else "saved"
    return redirect(url_for("specs.spec_model", model=spec.model, done=done, name=spec.model), 303)


# --------------------------------------------------------------------------- learned sigma


def _sigma_page(stored: store.StoredSpec, error: str | None = None, status: int = 200) -> Any:
    db = context().db
    found = sigma.figures(db, stored.spec.model, [stored.spec.model, *stored.spec.aliases])
    page = render_template(
        "specs/sigma.html",
        stored=stored,
        found=found,
        state=sigma.threshold_state(db, stored),
        method=sigma.METHOD,
        min_samples=sigma.MIN_SAMPLES,
        error=error,
        message=_done_message(),
    )
    return page, status


def _stored_or_404(model: str) -> store.StoredSpec:
    stored = store.get_spec(context().db, model[:MAX_SEARCH])
    if stored is None:
        abort(404, description=f"No spec for model {model[:64]!r}.")
    return stored


@bp.get("/specs/sigma/<path:model>")
@login_required
def spec_sigma(model: str) -> Any:
    return _sigma_page(_stored_or_404(model))


@bp.post("/specs/sigma/<path:model>")
@role_required(Role.ADMIN)
def spec_sigma_decide(model: str) -> Any:
    stored = _stored_or_404(model)
    accept = request.form.get("action") == "accept"
    value = None
    text = request.form.get("value", "").strip()[:40]
    if accept and text:
        try:
            value = float(text)
        except ValueError:
            return _sigma_page(stored, f"'{text}' is not a number; nothing was changed.", 400)
    found = sigma.figures(
        context().db, stored.spec.model, [stored.spec.model, *stored.spec.aliases]
    )
    try:
        sigma.decide(
            context().db, stored, found, accept, value, actor(), request.form.get("note", "")
        )
    except (sigma.SigmaDecisionError, store.SpecStoreError) as exc:
        return _sigma_page(stored, exc.message, 400)
    return redirect(
        url_for("specs.spec_sigma", model=stored.spec.model, done="sigma", name=stored.spec.model),
        303,
    )
