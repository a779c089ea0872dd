"""The HTTP face of every e-service: one blueprint per flow definition.

GET renders a step (page or htmx fragment); POST validates, saves the draft and
redirects (303) to the next step, or for htmx answers the next step directly with
``HX-Push-Url`` (one round trip less on a slow network). Invalid input answers 422 with
the step re-rendered, keeping everything the user typed.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from quart import Blueprint, Response, abort, current_app, g, request

from app.db import drafts as draft_repo
from app.db import submissions as submission_repo
from app.flows import engine
from app.flows.fields import ParseContext
from app.flows.model import Flow, Issue
from app.i18n import N_
from app.web.errors import error_page
from app.web.language import gettext
from app.web.render import is_htmx, render, see_other

from . import registry, uploads, views
from .receipt import build_pdf

BERLIN = ZoneInfo("Europe/Berlin")
DECLARATION_MISSING = N_("Bitte bestätigen Sie, dass Ihre Angaben richtig und vollständig sind.")


def today() -> date:
    from datetime import datetime

    return datetime.now(BERLIN).date()


def _owner() -> str | None:
    return g.session.get("owner_key")


def _settings() -> Any:
    return current_app.config["SETTINGS"]


def _db() -> Any:
    return current_app.config["DB"]


#: Called when the review is confirmed, before anything is stored: may answer instead of
#: submitting (the Widerspruch goes on to "Identität bestätigen"); None = submit now.
BeforeSubmit = Callable[[draft_repo.Draft], Awaitable[Response | None]]


async def finalise(
    flow: Flow, draft: draft_repo.Draft, *, proofs: dict[str, Any] | None = None
) -> submission_repo.Submission:
    """Make the immutable submission of a complete draft (idempotent by draft id)."""
    document = {"flow": flow.id, "answers": engine.collect(flow, draft.answers)}
    reference = submission_repo.new_reference(flow.reference_prefix, today().year)
    groups = engine.review(flow, draft.answers, views.WebFormatter())
    pdf = await build_pdf(flow, reference, groups, submitted=today(), proofs=proofs)
    key = flow.index_key(draft.answers) if flow.index_key else None
    submission, created = await submission_repo.create(
        _db(),
        flow_id=flow.id,
        draft_id=draft.id,
        owner_key=draft.owner_key,
        reference=reference,
        document=document,
        kundennummer=key,
        lang=g.lang,
        pdf=pdf,
        proofs=proofs,
    )
    await draft_repo.mark_submitted(_db(), draft.id)
    if created:
        from app.db import audit

        await audit.record(
            _db(),
            g.session.get("account_id") or "-",
            "submission",
            submission.id,
            flow=flow.id,
            sha256=submission.sha256,
        )
    return submission


def blueprint_for(flow: Flow, *, before_submit: BeforeSubmit | None = None) -> Blueprint:
    registry.add(flow)
    bp = Blueprint(flow.id, __name__, url_prefix=f"/{flow.slug}")
    base = f"/{flow.slug}"

    if flow.min_level:

        @bp.before_request
        async def _level() -> Response | None:
            from app.identity import require_level

            assert flow.min_level is not None
            return require_level(flow.min_level)

    def step_url(draft_id: str, key: str, review: bool = False) -> str:
        return f"{base}/{draft_id}/{key}" + ("?pruefen=1" if review else "")

    async def load(draft_id: str) -> draft_repo.Draft:
        draft = await draft_repo.get(_db(), draft_id, _owner())
        if draft is None or draft.flow_id != flow.id:
            abort(404)
        return draft

    @bp.get("")
    async def start() -> Response:
        mine = [d for d in await draft_repo.list_open(_db(), _owner()) if d.flow_id == flow.id]
        return await render(
            "pages/shell.html",
            "partials/eservice/start.html",
            page_title=gettext(flow.title),
            flow=flow,
            drafts=mine,
            help=views.help_view(flow.help),
        )

    @bp.post("/start")
    async def begin() -> Response:
        owner = g.session.ensure_token()
        answers: dict[str, Any] = {}
        if flow.prefill:
            from app.identity.facts import known_facts

            known = await known_facts()
            if known:
                filled = flow.prefill(known)
                answers = await filled if inspect.isawaitable(filled) else filled
        engine.normalise(flow, answers)
        draft = await draft_repo.create(
            _db(), flow.id, owner, answers, _settings().draft_retention_days
        )
        first = engine.first_open(flow, answers).key
        if is_htmx():  # one round trip less: answer the first step directly
            return await show(draft, first, push=True)
        return see_other(step_url(draft.id, first))

    async def show(
        draft: draft_repo.Draft,
        key: str,
        *,
        status: int = 200,
        raw: dict[str, Any] | None = None,
        issues: list[Issue] | None = None,
        values: dict[str, Any] | None = None,
        push: bool = False,
    ) -> Response:
        located = engine.find(flow, draft.answers, key)
        if located is None:
            abort(404)
        sequence, index = located
        step = sequence[index]
        issues = issues or []
        seen = set(draft.answers.get(engine.SEEN, []))
        review_mode = request.args.get("pruefen") == "1"
        ctx: dict[str, Any] = {
            "flow": flow,
            "draft": draft,
            "step": step,
            "issues": issues,
            "sections": views.progress(flow, sequence, index, seen),
            "action": step_url(draft.id, step.key, review_mode),
            "back": step_url(draft.id, sequence[index - 1].key) if index else base,
            "review_mode": review_mode,
        }
        ctx["number"], ctx["total"] = views.step_count(
            flow, ctx["sections"], index + 1, len(sequence)
        )
        if step.kind == "page":
            assert step.page is not None
            fields = views.field_views(step, raw, issues, values)
            ctx.update(
                fields=fields,
                errors=views.error_list(fields, issues),
                title=gettext(step.page.title, **step.params),
                intro=gettext(step.page.intro, **step.params) if step.page.intro else None,
                help=views.help_view(step.page.help or flow.help),
                multipart=any(f.type == "file" for f in fields),
            )
            if step.page.panel:
                ctx["panel"] = step.page.panel.template
                ctx["panel_data"] = await step.page.panel.compute(step.scope, _db())
        elif step.kind == "list":
            assert step.section and step.section.repeat
            rep = step.section.repeat
            items = step.scope.data["items"]
            names = []
            for n, item in enumerate(items, start=1):
                first = next(
                    (
                        s
                        for s in sequence
                        if s.key.startswith(step.key.rsplit("/", 1)[0] + f"/{item['_id']}/")
                    ),
                    None,
                )
                summary = item.get(rep.summary_field) if rep.summary_field else None
                label = _summary_label(step, rep.summary_field, summary)
                names.append(
                    {
                        "id": item["_id"],
                        "title": gettext(rep.item_title, **{**step.params, "n": n}),
                        "summary": label,
                        "edit": step_url(draft.id, first.key) if first else None,
                    }
                )
            ctx.update(
                title=gettext(rep.list_title, **step.params),
                items=names,
                add_label=gettext(rep.add_label, **step.params),
                can_add=len(items) < rep.max,
                can_remove=len(items) > rep.min,
                errors=[("#step-title", gettext(i.message, **dict(i.params))) for i in issues],
                help=views.help_view(flow.help),
            )
        else:
            groups = engine.review(flow, draft.answers, views.WebFormatter())
            ctx.update(
                title=gettext(N_("Daten überprüfen")),
                groups=groups,
                errors=[("#declaration", gettext(i.message)) for i in issues],
                declaration=gettext(flow.declaration) if flow.declaration else None,
                review_intro=gettext(flow.review_intro) if flow.review_intro else None,
                submit_label=gettext(flow.submit_label) if flow.submit_label else None,
                complete=engine.complete(flow, draft.answers),
                help=views.help_view(flow.help),
                step_url=lambda k: step_url(draft.id, k, review=True),
            )
            if flow.review_panel:
                ctx["panel"] = flow.review_panel.template
                ctx["panel_data"] = await flow.review_panel.compute(step.scope, _db())
        ctx["page_title"] = ctx["title"]
        response = await render(
            "pages/shell.html",
            "partials/eservice/step.html",
            status=status,
            push_url=step_url(draft.id, step.key, review_mode) if push or is_htmx() else None,
            **ctx,
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.get("/<draft_id>/<path:key>")
    async def step_get(draft_id: str, key: str) -> Response:
        draft = await load(draft_id)
        if draft.status != "open":
            return await _to_receipt(draft.id)
        if not engine.reachable(flow, draft.answers, key):
            if engine.find(flow, draft.answers, key) is None and key != engine.REVIEW:
                abort(404)
            return see_other(step_url(draft.id, engine.first_open(flow, draft.answers).key))
        return await show(draft, key)

    @bp.post("/<draft_id>/<path:key>")
    async def step_post(draft_id: str, key: str) -> Response:
        draft = await load(draft_id)
        if draft.status != "open":
            return await _to_receipt(draft.id)
        located = engine.find(flow, draft.answers, key)
        if located is None or not engine.reachable(flow, draft.answers, key):
            return see_other(step_url(draft.id, engine.first_open(flow, draft.answers).key))
        step = located[0][located[1]]
        form = await request.form
        if step.kind == "review":
            return await submit(draft, form)
        if step.kind == "list":
            return await list_action(draft, step, form)
        files = await uploads.handle(step, draft, _owner() or "")
        outcome = engine.parse_page(step, form, ParseContext(today(), step.scope, files))
        if _stale(form, draft) and form.get("resolve") != "device":
            differing = engine.differences(step, outcome)
            if differing:  # saved elsewhere in the meantime: the user chooses, nothing is lost
                return await show_conflict(draft, step, form, differing)
        if outcome.issues:
            kept = {
                k: v
                for k, v in outcome.values.items()
                if isinstance(v, dict) and v.get("status") == "uploaded"
            }
            if kept:  # a good upload is never lost because another field was wrong
                engine.store_partial(draft.answers, step, kept)
                draft = await draft_repo.save(_db(), draft, _settings().draft_retention_days)
            return await show(
                draft,
                key,
                status=422,
                raw=outcome.raw,
                issues=outcome.issues,
                values=outcome.values,
            )
        engine.apply_page(flow, draft.answers, step, outcome.values)
        draft = await draft_repo.save(_db(), draft, _settings().draft_retention_days)
        return await go_on(draft, step.key)

    async def show_conflict(
        draft: draft_repo.Draft, step: engine.Step, form: Any, differing: list[engine.Difference]
    ) -> Response:
        fmt = views.WebFormatter()
        rows = [
            {
                "label": gettext(d.field.label, **step.params),
                "device": d.device_text(fmt, step.scope),
                "saved": d.display(d.saved, fmt, step.scope),
            }
            for d in differing
        ]
        resend = [
            (name, value)
            for name, value in form.items(multi=True)
            if name not in ("csrf_token", "version", "resolve")
        ]
        response = await render(
            "pages/shell.html",
            "partials/eservice/conflict.html",
            status=409,
            page_title=gettext(N_("Ihre Angaben wurden inzwischen geändert")),
            flow=flow,
            draft=draft,
            step=step,
            rows=rows,
            resend=resend,
            action=step_url(draft.id, step.key, request.args.get("pruefen") == "1"),
            keep_url=step_url(draft.id, step.key),
            step_ref=f"{draft.id}/{step.key}",
            push_url=step_url(draft.id, step.key),
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    async def go_on(draft: draft_repo.Draft, after: str) -> Response:
        if request.args.get("pruefen") == "1" and engine.complete(flow, draft.answers):
            target = engine.REVIEW
        else:
            target = engine.next_step(flow, draft.answers, after).key
        if is_htmx():
            return await show(draft, target, push=True)
        return see_other(step_url(draft.id, target))

    async def list_action(draft: draft_repo.Draft, step: engine.Step, form: Any) -> Response:
        action = form.get("action", "weiter")
        if action == "add":
            first = engine.add_item(flow, draft.answers, step)
            if first is None:
                return await show(
                    draft,
                    step.key,
                    status=422,
                    issues=[Issue("", N_("Sie haben die höchste Anzahl erreicht."))],
                )
            draft = await draft_repo.save(_db(), draft, _settings().draft_retention_days)
            if is_htmx():
                return await show(draft, first, push=True)
            return see_other(step_url(draft.id, first))
        if action.startswith("remove:"):
            engine.remove_item(flow, draft.answers, step, action.removeprefix("remove:"))
            draft = await draft_repo.save(_db(), draft, _settings().draft_retention_days)
            if is_htmx():
                return await show(draft, step.key, push=True)
            return see_other(step_url(draft.id, step.key))
        engine.mark_seen(draft.answers, step.key)
        draft = await draft_repo.save(_db(), draft, _settings().draft_retention_days)
        return await go_on(draft, step.key)

    async def submit(draft: draft_repo.Draft, form: Any) -> Response:
        existing = await submission_repo.by_draft(_db(), draft.id)
        if existing:
            return see_other(f"{base}/eingang/{existing.id}")
        if not engine.complete(flow, draft.answers):
            return see_other(step_url(draft.id, engine.first_open(flow, draft.answers).key))
        if flow.declaration and form.get("declaration") != "ja":
            return await show(
                draft, engine.REVIEW, status=422, issues=[Issue("declaration", DECLARATION_MISSING)]
            )
        if before_submit is not None:
            answer = await before_submit(draft)
            if answer is not None:
                return answer
        submission = await finalise(flow, draft)
        return see_other(f"{base}/eingang/{submission.id}")

    @bp.errorhandler(draft_repo.VersionConflict)
    async def conflict(error: draft_repo.VersionConflict) -> Response:
        """Another tab, device or a double click saved first (not a 500).

        Without JavaScript: go on from the draft as it is now. htmx and the offline queue
        get 409, so that their input is kept and not taken as saved after a redirect.
        """
        if is_htmx():
            return await error_page(409)
        draft = await load(str(error.args[0]))
        if draft.status != "open":
            return await _to_receipt(draft.id)
        return see_other(step_url(draft.id, engine.first_open(flow, draft.answers).key))

    async def _to_receipt(draft_id: str) -> Response:
        existing = await submission_repo.by_draft(_db(), draft_id)
        if existing is None:
            abort(404)
        return see_other(f"{base}/eingang/{existing.id}")

    @bp.get("/eingang/<submission_id>")
    async def receipt(submission_id: str) -> Response:
        submission = await submission_repo.get(_db(), submission_id, _owner())
        if submission is None or submission.flow_id != flow.id:
            abort(404)
        response = await render(
            "pages/shell.html",
            "partials/eservice/receipt.html",
            page_title=gettext(flow.receipt_title),
            flow=flow,
            submission=submission,
            pdf_url=f"{base}/eingang/{submission.id}/quittung.pdf",
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.get("/eingang/<submission_id>/quittung.pdf")
    async def receipt_pdf(submission_id: str) -> Response:
        submission = await submission_repo.get(_db(), submission_id, _owner())
        if submission is None or submission.flow_id != flow.id:
            abort(404)
        data = await submission_repo.pdf(_db(), submission_id, _owner())
        return Response(
            data,
            content_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{submission.reference}.pdf"',
                "Cache-Control": "no-store",
            },
        )

    return bp


def _stale(form: Any, draft: draft_repo.Draft) -> bool:
    """The form was rendered from an older version of the draft (another tab or device)."""
    sent = str(form.get("version", ""))
    return sent.isdigit() and int(sent) < draft.version


def _summary_label(step: engine.Step, field_id: str | None, value: Any) -> str | None:
    if not field_id or value is None or step.section is None:
        return None
    for page in step.section.pages:
        for f in page.fields:
            if f.id == field_id:
                from app.flows.fields import REGISTRY

                return REGISTRY[f.type].display(f, value, views.WebFormatter(), step.scope)
    return None


__all__ = ["blueprint_for", "finalise", "registry"]
