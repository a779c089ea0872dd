"""Command line: ``python -m app serve|migrate|purge``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from . import db
from .settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the app (migrations are applied on start)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--data-dir", type=Path, default=None)
    serve.add_argument("--demo", action="store_true", help="seed demo data (never in production)")
    serve.add_argument("--workers", type=int, default=1)
    mig = sub.add_parser("migrate", help="apply database migrations")
    mig.add_argument("--data-dir", type=Path, default=None)
    purge = sub.add_parser("purge", help="delete expired drafts and sessions")
    purge.add_argument("--data-dir", type=Path, default=None)
    pin = sub.add_parser(
        "pin-letter", help="make a PIN letter (PDF with a one-time code) for a customer"
    )
    pin.add_argument("kundennummer")
    pin.add_argument("--data-dir", type=Path, default=None)
    pin.add_argument("--out", type=Path, required=True, help="where to write the letter PDF")
    args = parser.parse_args(argv)

    settings = Settings.from_env(
        data_dir=args.data_dir, demo=True if getattr(args, "demo", False) else None
    )
    if settings.demo and settings.production:
        print("Demo data is never created in production mode.", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(settings, args.host, args.port, args.workers)
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "pin-letter":
        from .identity.pinletter import cli_main

        return asyncio.run(cli_main(settings, args.kundennummer, args.out))
    return asyncio.run(_purge(settings))


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    """Serve with Granian (chosen by bench/load: docs/decisions/0005-asgi-server.md)."""
    import os

    if workers > 1 and settings.demo:
        print("--demo runs with one worker only.", file=sys.stderr)
        return 2
    if workers > 1 and not os.environ.get("JCD_SECRET_KEY"):
        print(
            "--workers > 1 needs JCD_SECRET_KEY: every worker must use the same key.",
            file=sys.stderr,
        )
        return 2
    asyncio.run(_migrate(settings))  # once, before any worker starts
    # what the CLI decided, for the workers' Settings.from_env()
    os.environ["JCD_DATA_DIR"] = str(settings.data_dir)
    catcher = None
    if settings.demo:
        os.environ["JCD_DEMO"] = "1"
        catcher = _start_mail_catcher(settings)
    try:
        _granian(host, port, workers)
    finally:
        if catcher is not None:
            catcher.stop()
    return 0


def _start_mail_catcher(settings: Settings) -> Any:
    """Demo only: a local SMTP server in a thread of this process, before Granian starts.

    It keeps every mail as an .eml file under <data dir>/mail, shown at /dev/mail, so a
    person trying ``make run`` can confirm an address. The worker learns port and folder
    from the environment.
    """
    import os

    from .identity.mail import free_port, start_catcher

    port = int(os.environ.get("JCD_SMTP_PORT") or free_port())
    folder = Path(os.environ.get("JCD_MAIL_CATCHER_DIR") or settings.data_dir / "mail")
    try:
        controller = start_catcher(folder, port)
    except Exception as error:  # e.g. the port is taken by another mail server
        print(f"no demo mail catcher on port {port} ({error}); mail goes to JCD_SMTP_*")
        return None
    os.environ["JCD_SMTP_PORT"] = str(port)
    os.environ["JCD_SMTP_HOST"] = "127.0.0.1"
    os.environ["JCD_MAIL_CATCHER_DIR"] = str(folder.resolve())
    print(f"demo mail catcher on 127.0.0.1:{port}, mail in {folder} and at /dev/mail")
    return controller


def _granian(host: str, port: int, workers: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.http import HTTP1Settings

    Granian(
        "app:create_app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,  # with lifespan: before_serving/after_serving run
        workers=workers,
        loop=Loops.uvloop,
        log_access=False,
        http1_settings=HTTP1Settings(keep_alive=True),
    ).serve()


async def _migrate(settings: Settings) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = db.create_engine(settings.db_url)
    version = await db.migrate(engine)
    await engine.dispose()
    print(f"schema version {version}")
    return 0


async def _purge(settings: Settings) -> int:
    from .db import drafts
    from .identity.ratelimit import purge as purge_rate_events
    from .identity.saml import purge as purge_saml_requests
    from .web.sessions import purge_expired

    engine = db.create_engine(settings.db_url)
    removed = await drafts.purge_expired(engine), await purge_expired(engine)
    events = await purge_rate_events(engine)
    requests = await purge_saml_requests(engine)
    await engine.dispose()
    print(
        f"removed {removed[0]} drafts, {removed[1]} sessions, {events} rate-limit events, "
        f"{requests} unanswered eID requests"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
