"""The app plus two bare routes, served by a chosen ASGI server (benchmarks only).

``python -m bench.server --server hypercorn|uvicorn|granian [--workers N] [--loop L]
--port P --data-dir DIR [--demo]`` builds ``create_app(Settings.from_env())`` (the data
directory and demo flag go through ``JCD_DATA_DIR`` / ``JCD_DEMO``, so every worker
process builds the same app) and adds, without touching app code:

* ``GET /bench/const``: a Quart route returning the constant string ``ok``;
* ``GET /bench/template``: a constant small template, compiled once, rendered with
  ``render_template`` (the reference of every ratio);
* ``GET /bench/template-string``: the same through ``render_template_string``, which
  compiles it on every request (shown for comparison only).

Both go through the app's own before/after-request hooks (language, session, CSRF,
compression, security headers), like every page: the ratio of a real route to them is
the app's own overhead on the same server, in the same run.

``running(...)`` starts a server as a subprocess, waits for ``/healthz`` and stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KEEP_ALIVE_S = 75  # as app/__main__.py _serve
SERVERS = ("hypercorn", "uvicorn", "granian")
LOOPS = ("asyncio", "uvloop")
BENCH_SECRET = "bench-" + "0" * 58  # one key for every worker process (throwaway data)

TEMPLATE = (
    '<!doctype html><html lang="{{ lang }}"><title>{{ title }}</title>'
    "<h1>{{ title }}</h1><ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul>"
)
TEMPLATE_CONTEXT = {"title": "Bench", "items": ("eins", "zwei", "drei")}


def _count(stats: dict[str, int], key: str) -> None:
    stats[key] += 1


def add_bench_routes(app: Any) -> Any:
    from quart import jsonify, render_template, render_template_string
    from sqlalchemy import event

    # Compiled once, as Jinja's loader caches every template of the app. Rendered through
    # Quart's render_template (context processors and signals included), like a page.
    compiled = app.jinja_env.from_string(TEMPLATE)

    # Connections opened and checked out of the app's pool, for /bench/stats:
    # single-worker servers only.
    stats = {"connect": 0, "checkout": 0}
    sync_engine = app.config["DB"].sync_engine
    event.listen(sync_engine, "connect", lambda *_: _count(stats, "connect"))
    event.listen(sync_engine, "checkout", lambda *_: _count(stats, "checkout"))

    @app.get("/bench/stats")
    async def bench_stats() -> Any:
        return jsonify({**stats, "pid": os.getpid()})

    @app.get("/bench/const")
    async def bench_const() -> str:
        return "ok"

    @app.get("/bench/template")
    async def bench_template() -> str:
        return await render_template(compiled, **TEMPLATE_CONTEXT)

    @app.get("/bench/template-string")
    async def bench_template_string() -> str:
        # render_template_string compiles the source on every call (about 8 times the
        # cost of rendering it): no real page does that, so it is not the reference.
        return await render_template_string(TEMPLATE, **TEMPLATE_CONTEXT)

    return app


def factory() -> Any:
    """The ASGI app of one worker process (uvicorn/granian/hypercorn ``factory``)."""
    from app import create_app
    from app.settings import Settings

    return add_bench_routes(create_app(Settings.from_env()))


# -- serving ------------------------------------------------------------------------------


def serve(server: str, host: str, port: int, workers: int, loop: str) -> None:
    if server == "hypercorn":
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"{host}:{port}"]
        config.accesslog = None
        config.errorlog = "-"
        config.keep_alive_timeout = KEEP_ALIVE_S
        config.worker_class = loop
        if workers == 1:
            from hypercorn.asyncio import serve as hypercorn_serve

            runner = asyncio.run
            if loop == "uvloop":
                import uvloop

                runner = uvloop.run
            runner(hypercorn_serve(factory(), config))  # type: ignore[arg-type]
        else:
            from hypercorn.run import run

            config.workers = workers
            config.application_path = "bench.server:factory()"
            run(config)
    elif server == "uvicorn":
        import uvicorn

        uvicorn.run(
            "bench.server:factory",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop=loop,
            http="httptools" if loop == "uvloop" else "h11",
            lifespan="on",
            access_log=False,
            timeout_keep_alive=KEEP_ALIVE_S,
            log_level="warning",
        )
    elif server == "granian":
        from granian import Granian
        from granian.constants import Interfaces, Loops

        Granian(
            "bench.server:factory",
            factory=True,
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=workers,
            loop=Loops(loop),
            log_access=False,
        ).serve()
    else:  # pragma: no cover - argparse restricts it
        raise ValueError(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--server", choices=SERVERS, default="granian")
    parser.add_argument("--loop", choices=LOOPS, default="asyncio")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--demo", action="store_true")
    args = parser.parse_args(argv)
    os.environ["JCD_DATA_DIR"] = str(args.data_dir)
    os.environ.setdefault("JCD_SECRET_KEY", BENCH_SECRET)
    if args.demo:
        os.environ["JCD_DEMO"] = "1"
    serve(args.server, args.host, args.port, args.workers, args.loop)
    return 0


# -- a throwaway server in a subprocess ------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200 and b'"ok"' in response.read()
    except (urllib.error.URLError, OSError):
        return False


@dataclass(frozen=True)
class Running:
    url: str
    pid: int  # also the process group of its workers

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server and its worker processes so far."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.pid:  # field 5: process group
                total += int(fields[11]) + int(fields[12])  # fields 14, 15: utime, stime
        return total / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def running(
    command: list[str], data_dir: Path, *, env: dict[str, str] | None = None, timeout_s: float = 60
) -> Iterator[Running]:
    """Run ``command`` (``{port}`` and ``{data_dir}`` are filled in) until the block ends.
    The data directory is migrated first, so that several worker processes never race to
    create the tables."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    subprocess.run(
        [sys.executable, "-m", "app", "migrate", "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=full_env,
        check=True,
        capture_output=True,
    )
    log_path = data_dir / "server.log"
    argv = [part.format(port=port, data_dir=data_dir) for part in command]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout_s
        while not healthy(url):
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=0.1)
                raise RuntimeError(f"server exited with {code}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"server not healthy after {timeout_s}s:\n{log_path.read_text()}"
                )
        yield Running(url, proc.pid)
    finally:
        # the whole process group: multi-worker servers have children
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            proc.wait()


def app_command(*, demo: bool) -> list[str]:
    """The real CLI, as the test fixture starts it."""
    cmd = [sys.executable, "-m", "app", "serve", "--port", "{port}", "--data-dir", "{data_dir}"]
    return [*cmd, "--demo"] if demo else cmd


def bench_command(server: str, *, workers: int = 1, loop: str = "asyncio") -> list[str]:
    return [
        sys.executable,
        "-m",
        "bench.server",
        "--server",
        server,
        "--workers",
        str(workers),
        "--loop",
        loop,
        "--port",
        "{port}",
        "--data-dir",
        "{data_dir}",
    ]


if __name__ == "__main__":
    sys.exit(main())
