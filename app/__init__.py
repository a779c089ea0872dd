"""create_app(settings): wiring only, no logic."""

from __future__ import annotations

from quart import Quart

from .settings import Settings


def create_app(settings: Settings | None = None) -> Quart:
    from . import (
        anmeldung,
        antraege,
        db,
        devmail,
        eid,
        i18n,
        konto,
        ortsabwesenheit,
        pwa,
        sicherheit,
        start,
        veraenderung,
        widerspruch,
    )
    from .identity import testidp
    from .web import errors, static, templating
    from .web.compression import compress_response
    from .web.csrf import check_csrf
    from .web.headers import add_security_headers
    from .web.language import pick_language, remember_language
    from .web.sessions import load_session, save_session

    settings = settings or Settings.from_env()
    app = Quart(__name__, template_folder=".", static_folder=None)
    app.config.update(
        SETTINGS=settings,
        CATALOGS=i18n.load_catalogs(),
        STATIC=static.StaticFiles(),
        MAX_CONTENT_LENGTH=settings.upload_max_bytes + 1024 * 1024,
        SECRET_KEY=settings.secret_key,
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app.config["DB"] = db.create_engine(settings.db_url)

    @app.before_serving
    async def _migrate() -> None:
        await db.migrate(app.config["DB"])
        if settings.demo:
            from .demo import seed

            await seed(app)

    @app.after_serving
    async def _close() -> None:
        await app.config["DB"].dispose()

    app.before_request(pick_language)
    app.before_request(load_session)
    app.before_request(check_csrf)
    # after_request runs in reverse order of registration: compress last.
    app.after_request(compress_response)
    app.after_request(add_security_headers)
    app.after_request(remember_language)
    app.after_request(save_session)

    templating.install(app)
    errors.install(app)
    app.register_blueprint(static.blueprint)
    for area in (
        start,
        antraege,
        veraenderung,
        ortsabwesenheit,
        widerspruch,
        pwa,
        anmeldung,
        konto,
        sicherheit,
        eid,
    ):
        app.register_blueprint(area.blueprint)
    if settings.demo and not settings.production:
        app.register_blueprint(devmail.blueprint)  # caught mail, demo only
    if not settings.eid_idp_metadata:
        testidp.install(app)  # no real IdP configured: the local test IdP (never in production)
    return app
