"""Start page, information pages (BITV § 4), accessibility statement, feedback, health."""

from __future__ import annotations

from quart import Blueprint, Response, current_app, jsonify

from app.db import ping

from .eservice import registry
from .web.language import gettext
from .web.render import render

blueprint = Blueprint("start", __name__)


@blueprint.get("/")
async def index() -> Response:
    return await render(
        "pages/shell.html",
        "partials/start/index.html",
        page_title=gettext("Online-Dienste Ihres Jobcenters"),
        services=registry.all_flows(),
    )


@blueprint.get("/healthz")
async def healthz() -> Response:
    async with current_app.config["DB"].connect() as conn:
        await ping(conn)
    response = jsonify({"status": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response
