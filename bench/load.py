"""Server throughput: ``python -m bench.load`` (prints tables; writes nothing else).

Starts ``python -m bench.server`` (the app as ``create_app`` builds it, plus the bare
routes ``/bench/const``, ``/bench/template`` and ``/bench/template-string``; no demo data,
``JCD_ENV=production``, which changes nothing but forbidding demo data) in subprocesses,
each configuration on its own copy of one prepared database, and drives them from this
process over loopback with a small asyncio HTTP/1.1 keep-alive client, one connection per
simulated visitor, no think time (closed loop), bounded in time.

Before measuring, every simulated visitor gets its own session cookie, CSRF token and
draft: it opens the Veränderungsmitteilung and completes every step with the journey
data of ``e2e/journeys.py`` up to the review (not submitted). Scenarios, each at 50 and
200 concurrent visitors (1 s warm-up, then ``--duration`` seconds measured; the servers
take turns scenario by scenario, ``--rounds`` times, pooled):

* ``const``, ``template``: the bare routes (no cookie); ``template`` is the reference of
  every ratio (``template-string``, which compiles the template on every request, only
  when asked for);
* ``get-step``: GET the first step ``wer/person`` as a full page;
* ``post-step``: POST that step with htmx (``HX-Request``): parse, validate, save the
  draft, render the next step as a fragment;
* ``review``: GET the review ``_pruefen`` (all answers) as a full page;
* ``mix``: per visitor the cycle GET step, POST step, GET step, POST step, GET review.

Reported: requests/s, p50/p95/p99 latency, errors, server CPU per request (the figure that
other load on the machine hardly changes), pool checkouts and new database connections
(single-worker servers), and the ratio of each route's throughput to ``template`` of the
same server in the same run.

``--compare`` runs the same on hypercorn, uvicorn and granian (docs/decisions/
0005-asgi-server.md); ``--config NAME[:WORKERS]`` picks configurations.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import server as srv
from bench.httpclient import Browserish, Connection, encode
from bench.netlog import forms
from e2e import journeys as j

#: name → (server, event loop); uvicorn with uvloop also uses httptools.
CONFIGS = {
    "hypercorn": ("hypercorn", "asyncio"),
    "hypercorn-uvloop": ("hypercorn", "uvloop"),
    "uvicorn-h11": ("uvicorn", "asyncio"),
    "uvicorn": ("uvicorn", "uvloop"),
    "granian": ("granian", "uvloop"),
    "granian-asyncio": ("granian", "asyncio"),
}
COMPARE = ["hypercorn", "hypercorn-uvloop", "uvicorn-h11", "uvicorn", "granian"]
SCENARIOS = {
    "const": ("const",),
    "template": ("template",),
    "template-string": ("template_string",),
    "get-step": ("get_step",),
    "post-step": ("post_step",),
    "review": ("review",),
    "mix": ("get_step", "post_step", "get_step", "post_step", "review"),
}
EXPECTED_STATUS = {
    "const": 200,
    "template": 200,
    "template_string": 200,
    "get_step": 200,
    "post_step": 200,
    "review": 200,
}
DEFAULT_SCENARIOS = ("const", "template", "get-step", "post-step", "review", "mix")
JOURNEY = j.VERAENDERUNG
WARMUP_S = 1.0
MAX_REQUESTS = 2_000_000  # a hard bound besides the time


# -- visitors -------------------------------------------------------------------------------


@dataclass
class Visitor:
    cookie: str
    step_path: str
    review_path: str
    step_form: dict[str, str]


async def _make_visitor(host: str, port: int) -> Visitor:
    b = Browserish(host, port)
    try:
        reply, _ = await b.request("GET", f"/{JOURNEY.slug}")
        start = next(f for f in forms(reply.text()) if f.action.endswith("/start"))
        reply, path = await b.request("POST", start.action, start.hidden)
        step_path, step_form = path, {}
        for index, step in enumerate(JOURNEY.steps[:-1]):  # up to the review
            form = next(f for f in forms(reply.text()) if "form" in f.classes.split())
            data = dict(form.hidden)
            for item in step.fills:
                data.update(item.form())
            if step.kind == "list":
                data["action"] = step.action
            if index == 0:
                step_form = data
            reply, path = await b.request("POST", form.action or path, data)
            if reply.status != 200:
                raise RuntimeError(f"setup: step {step.key} → {reply.status} {path}")
        if not path.endswith("/_pruefen"):
            raise RuntimeError(f"setup ended on {path}, not on the review")
        return Visitor(b.cookie_header()["Cookie"], step_path, path, step_form)
    finally:
        await b.conn.close()


async def make_visitors(host: str, port: int, count: int, parallel: int = 20) -> list[Visitor]:
    gate = asyncio.Semaphore(parallel)

    async def one() -> Visitor:
        async with gate:
            return await _make_visitor(host, port)

    return list(await asyncio.gather(*(one() for _ in range(count))))


def requests_for(visitor: Visitor | None, authority: str) -> dict[str, bytes]:
    out = {
        "const": encode("GET", "/bench/const", authority),
        "template": encode("GET", "/bench/template", authority),
        "template_string": encode("GET", "/bench/template-string", authority),
    }
    if visitor is not None:
        cookie = {"Cookie": visitor.cookie}
        out["get_step"] = encode("GET", visitor.step_path, authority, cookie)
        out["review"] = encode("GET", visitor.review_path, authority, cookie)
        out["post_step"] = encode(
            "POST",
            visitor.step_path,
            authority,
            {
                **cookie,
                "Content-Type": "application/x-www-form-urlencoded",
                "HX-Request": "true",
                "HX-Current-URL": f"http://{authority}{visitor.step_path}",
                "Origin": f"http://{authority}",
            },
            urlencode(visitor.step_form).encode(),
        )
    return out


# -- one scenario ----------------------------------------------------------------------------


@dataclass
class Result:
    scenario: str
    clients: int
    duration_s: float
    requests: int
    errors: int
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    server_cpu_s: float = 0.0  # over the whole run: warm-up and tail included
    client_cpu_s: float = 0.0
    completed: int = 0  # every request answered in that whole run (for per-request costs)
    wall_s: float = 0.0  # that whole run
    loadavg: float = 0.0  # 1-minute load average of the machine after the scenario
    db_connects: int | None = None  # new SQLite connections (single-worker servers)
    db_checkouts: int | None = None  # pool checkouts (plus a pre-ping each, where it is on)

    @classmethod
    def pool(cls, results: list[Result]) -> Result:
        first = results[0]
        latencies: dict[str, list[float]] = {}
        for r in results:
            for kind, values in r.latencies_ms.items():
                latencies.setdefault(kind, []).extend(values)
        return cls(
            scenario=first.scenario,
            clients=first.clients,
            duration_s=sum(r.duration_s for r in results),
            requests=sum(r.requests for r in results),
            errors=sum(r.errors for r in results),
            latencies_ms=latencies,
            server_cpu_s=sum(r.server_cpu_s for r in results),
            client_cpu_s=sum(r.client_cpu_s for r in results),
            completed=sum(r.completed for r in results),
            wall_s=sum(r.wall_s for r in results),
            loadavg=sum(r.loadavg for r in results) / len(results),
            db_connects=_sum_or_none(r.db_connects for r in results),
            db_checkouts=_sum_or_none(r.db_checkouts for r in results),
        )

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s

    def all_latencies(self) -> list[float]:
        return sorted(x for values in self.latencies_ms.values() for x in values)

    def percentile(self, p: float, kind: str | None = None) -> float:
        values = sorted(self.latencies_ms.get(kind, [])) if kind else self.all_latencies()
        if not values:
            return float("nan")
        rank = max(0, min(len(values) - 1, math.ceil(p / 100 * len(values)) - 1))  # nearest rank
        return values[rank]

    @property
    def cpu_ms(self) -> float:
        """Server CPU time per request: hardly affected by other load on the machine."""
        return 1000 * self.server_cpu_s / max(self.completed, 1)

    def rps_of(self, kind: str) -> float:
        return len(self.latencies_ms.get(kind, [])) / self.duration_s

    def summary(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "clients": self.clients,
            "rps": round(self.rps, 1),
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
            "errors": self.errors,
            "server_cpu_ms_per_request": round(self.cpu_ms, 2),
            "client_cpu_share": round(self.client_cpu_s / max(self.wall_s, 1e-9), 2),
            "loadavg": round(self.loadavg, 1),
            "by_kind": {
                k: {
                    "rps": round(self.rps_of(k), 1),
                    "p50_ms": round(self.percentile(50, k), 1),
                    "p99_ms": round(self.percentile(99, k), 1),
                }
                for k in self.latencies_ms
            },
        }


def _sum_or_none(values: Any) -> int | None:
    values = list(values)
    return None if any(v is None for v in values) else sum(values)


def db_stats(running: srv.Running) -> dict[str, int]:
    with urllib.request.urlopen(f"{running.url}/bench/stats", timeout=10) as response:
        return json.loads(response.read())


async def run_scenario(
    running: srv.Running,
    visitors: list[Visitor],
    scenario: str,
    clients: int,
    duration: float,
    *,
    count_db: bool = False,
    think_s: float = 0.0,
) -> Result:
    host, port = "127.0.0.1", running.port
    authority = f"{host}:{port}"
    cycle = SCENARIOS[scenario]
    needs_visitor = any(k not in ("const", "template", "template_string") for k in cycle)
    conns = [Connection(host, port) for _ in range(clients)]
    await asyncio.gather(*(c.open() for c in conns))
    latencies: dict[str, list[float]] = {k: [] for k in dict.fromkeys(cycle)}
    errors = 0
    sent = 0
    completed = 0
    start = time.perf_counter() + max(WARMUP_S, think_s)
    end = start + duration

    async def client(index: int, conn: Connection) -> None:
        nonlocal errors, sent, completed
        raw = requests_for(visitors[index] if needs_visitor else None, authority)
        step = random.randrange(len(cycle))
        if think_s:  # spread the first requests over one think time
            await asyncio.sleep(random.uniform(0, think_s))
        while sent < MAX_REQUESTS:
            kind = cycle[step % len(cycle)]
            step += 1
            began = time.perf_counter()
            if began >= end:
                return
            sent += 1
            try:
                reply = await conn.send(raw[kind])
                ok = reply.status == EXPECTED_STATUS[kind]
            except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
                ok = False
                await conn.close()
            finished = time.perf_counter()
            completed += 1
            if began >= start and finished <= end:
                if ok:
                    latencies[kind].append((finished - began) * 1000)
                else:
                    errors += 1
            if think_s:  # a visitor reading the next step (0.5–1.5 × the think time)
                await asyncio.sleep(think_s * random.uniform(0.5, 1.5))

    before = db_stats(running) if count_db else None
    cpu_server = running.cpu_seconds()
    cpu_client = time.process_time()
    wall = time.perf_counter()
    await asyncio.gather(*(client(i, c) for i, c in enumerate(conns)))
    result = Result(
        scenario=scenario,
        clients=clients,
        duration_s=duration,
        requests=sum(len(v) for v in latencies.values()),
        errors=errors,
        latencies_ms=latencies,
        # includes the warm-up second: CPU per request is slightly pessimistic
        server_cpu_s=running.cpu_seconds() - cpu_server,
        client_cpu_s=time.process_time() - cpu_client,
        completed=completed,
        wall_s=time.perf_counter() - wall,
        loadavg=os.getloadavg()[0],
    )
    await asyncio.gather(*(c.close() for c in conns))
    if before is not None:
        after = db_stats(running)
        result.db_connects = after["connect"] - before["connect"]
        result.db_checkouts = after["checkout"] - before["checkout"]
    return result


# -- one server configuration ----------------------------------------------------------------


ENV = {"JCD_ENV": "production"}
DB_FILE = "jobcenter.sqlite3"


def prepare_visitors(count: int) -> tuple[Path, list[Visitor]]:
    """Set the visitors up once, on a throwaway server; every configuration then starts
    from a copy of that database (``fresh_copy``)."""
    template = Path(tempfile.mkdtemp(prefix="jcd-load-visitors-"))
    began = time.perf_counter()
    with srv.running(srv.bench_command("granian", loop="uvloop"), template, env=ENV) as running:
        visitors = _loop_run(make_visitors("127.0.0.1", running.port, count))
    with sqlite3.connect(template / DB_FILE) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(
        f"# {len(visitors)} visitors (session, CSRF token, draft up to the review) set up "
        f"in {time.perf_counter() - began:.1f} s",
        file=sys.stderr,
    )
    return template, visitors


def fresh_copy(template: Path) -> Path:
    """A copy of the prepared database whose sessions were last seen just now (the idle
    timeout would otherwise end them during a long comparison)."""
    data_dir = Path(tempfile.mkdtemp(prefix="jcd-load-"))
    shutil.copy2(template / DB_FILE, data_dir / DB_FILE)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(data_dir / DB_FILE) as db:
        db.execute("UPDATE sessions SET last_seen_at = ?", (now,))
    return data_dir


def run_all(
    keys: list[tuple[str, int]],
    template: Path,
    visitors: list[Visitor],
    clients: list[int],
    duration: float,
    scenarios: list[str],
    rounds: int,
    think_s: float = 0.0,
) -> dict[tuple[str, int], list[Result]]:
    """All configurations run at once (each on its own copy of the database; an idle
    server costs nothing) and take turns scenario by scenario, ``rounds`` times: a
    background load that comes and goes then hits every configuration alike. The rounds
    are pooled (requests over total time; percentiles over all samples)."""
    parts: dict[tuple[str, int, str, int], list[Result]] = {}
    dirs: list[Path] = []
    try:
        with contextlib.ExitStack() as stack:
            servers = {}
            for name, workers in keys:
                server, loop = CONFIGS[name]
                dirs.append(fresh_copy(template))
                servers[(name, workers)] = stack.enter_context(
                    srv.running(
                        srv.bench_command(server, workers=workers, loop=loop), dirs[-1], env=ENV
                    )
                )
            for turn in range(rounds):
                for count in clients:
                    for scenario in scenarios:
                        for key, running in servers.items():
                            result = _loop_run(
                                run_scenario(
                                    running,
                                    visitors,
                                    scenario,
                                    count,
                                    duration,
                                    count_db=key[1] == 1,
                                    think_s=think_s,
                                )
                            )
                            parts.setdefault((*key, scenario, count), []).append(result)
                            s = result.summary()
                            print(
                                f"# round {turn + 1} {label(*key):<38} {scenario:<9} {count:>3} "
                                f"clients: {s['rps']:>7} req/s  p50 {s['p50_ms']} p99 "
                                f"{s['p99_ms']} ms  errors {s['errors']}  "
                                f"load average {result.loadavg:.1f}",
                                file=sys.stderr,
                            )
    finally:
        for data_dir in dirs:
            shutil.rmtree(data_dir, ignore_errors=True)
    out: dict[tuple[str, int], list[Result]] = {key: [] for key in keys}
    for key in keys:
        for count in clients:
            for scenario in scenarios:
                out[key].append(Result.pool(parts[(*key, scenario, count)]))
    return out


def _loop_run(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def label(name: str, workers: int) -> str:
    server, loop = CONFIGS[name]
    detail = {
        "hypercorn": "h11",
        "uvicorn": "httptools" if loop == "uvloop" else "h11",
        "granian": "Rust HTTP",
    }[server]
    return f"{server} ({detail}, {loop}, {workers} worker{'s' if workers > 1 else ''})"


# -- tables ------------------------------------------------------------------------------------


def table(name: str, workers: int, results: list[Result]) -> str:
    lines = [
        f"### {label(name, workers)}",
        "",
        "| scenario | clients | req/s | p50 ms | p95 ms | p99 ms | ÷ template | "
        "server CPU ms/req | DB checkouts/req | new DB connections | errors | load avg |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        s = r.summary()
        ref = next(x for x in results if x.scenario == "template" and x.clients == r.clients)
        lines.append(
            f"| {r.scenario} | {r.clients} | {s['rps']:.0f} | {s['p50_ms']:.1f} | "
            f"{s['p95_ms']:.1f} | {s['p99_ms']:.1f} | {r.rps / ref.rps:.0%} | "
            f"{s['server_cpu_ms_per_request']:.2f} | {_per(r.db_checkouts, r)} | "
            f"{'–' if r.db_connects is None else r.db_connects} | {r.errors} | {r.loadavg:.1f} |"
        )
    mixes = [r for r in results if r.scenario == "mix"]
    if mixes:
        lines += [
            "",
            "Mix by request kind:",
            "",
            "| clients | kind | req/s | p50 ms | p99 ms |",
            "| ---: | --- | ---: | ---: | ---: |",
        ]
        for r in mixes:
            for kind in r.latencies_ms:
                lines.append(
                    f"| {r.clients} | {kind} | {r.rps_of(kind):.0f} | "
                    f"{r.percentile(50, kind):.1f} | {r.percentile(99, kind):.1f} |"
                )
    return "\n".join(lines)


def _per(value: int | None, r: Result) -> str:
    total = r.completed
    return "–" if value is None or not total else f"{value / total:.1f}"


def targets(name: str, workers: int, results: list[Result]) -> str:
    out = [f"Targets for {label(name, workers)}:"]
    for count in sorted({r.clients for r in results}):
        by = {r.scenario: r for r in results if r.clients == count}
        if "post-step" in by and "template" in by:
            ratio = by["post-step"].rps / by["template"].rps
            verdict = "meets" if ratio >= 0.40 else "misses"
            cpu = by["template"].cpu_ms / by["post-step"].cpu_ms
            out.append(
                f"- {count} clients: POST step {by['post-step'].rps:.0f} req/s = "
                f"{ratio:.0%} of template {by['template'].rps:.0f} req/s "
                f"({verdict} ≥ 40 %); by server CPU per request "
                f"{by['template'].cpu_ms:.2f} / {by['post-step'].cpu_ms:.2f} ms = {cpu:.0%}"
            )
        if count == 200 and "mix" in by:
            p99 = by["mix"].percentile(99)
            out.append(
                f"- 200 clients: mix p99 {p99:.0f} ms "
                f"({'meets' if p99 < 100 else 'misses'} < 100 ms)"
            )
    return "\n".join(out)


def comparison(all_results: dict[tuple[str, int], list[Result]]) -> str:
    counts = sorted({r.clients for results in all_results.values() for r in results})
    low, high = counts[0], counts[-1]
    pairs = [low] if low == high else [low, high]
    head = "".join(f" mix req/s ({c}) | mix p99 ms ({c}) |" for c in pairs)
    lines = [
        f"| server |{head} POST ÷ template ({high}) | server CPU ms/req: const, "
        f"template, POST step, mix ({low}) | errors |",
        "| --- |" + " ---: |" * (2 * len(pairs) + 3),
    ]
    for (name, workers), results in all_results.items():
        by = {(r.scenario, r.clients): r for r in results}

        def rps(s: str, c: int, by: dict = by) -> str:
            return f"{by[(s, c)].rps:.0f}" if (s, c) in by else "–"

        def p99(s: str, c: int, by: dict = by) -> str:
            return f"{by[(s, c)].percentile(99):.0f}" if (s, c) in by else "–"

        def cpu(s: str, c: int, by: dict = by) -> str:
            return f"{by[(s, c)].cpu_ms:.2f}" if (s, c) in by else "–"

        ratio = "–"
        if ("post-step", high) in by and ("template", high) in by:
            ratio = f"{by[('post-step', high)].rps / by[('template', high)].rps:.0%}"
        errors = sum(r.errors for r in results)
        cpus = ", ".join(cpu(s, low) for s in ("const", "template", "post-step", "mix"))
        second = "" if low == high else f" {rps('mix', high)} | {p99('mix', high)} |"
        lines.append(
            f"| {label(name, workers)} | {rps('mix', low)} | {p99('mix', low)} |{second} "
            f"{ratio} | {cpus} | {errors} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        help=f"NAME[:WORKERS], NAME one of {', '.join(CONFIGS)} "
        "(default: granian:1, what `python -m app serve` runs)",
    )
    parser.add_argument(
        "--compare", action="store_true", help=f"all of {', '.join(COMPARE)} with 1 worker"
    )
    parser.add_argument("--clients", default="50,200")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per scenario")
    parser.add_argument(
        "--scenarios",
        default=",".join(DEFAULT_SCENARIOS),
        help=f"comma-separated, of {', '.join(SCENARIOS)}",
    )
    parser.add_argument("--rounds", type=int, default=2, help="turns per scenario, pooled")
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="pause of each visitor after each response (0.5–1.5 × this; default 0: "
        "closed loop, a saturation test)",
    )
    parser.add_argument("--json", type=Path, help="also write the summaries here")
    args = parser.parse_args(argv)
    configs = [c for c in args.config]
    if args.compare:
        configs += [f"{c}:1" for c in COMPARE]
    configs = configs or ["granian:1"]
    clients = [int(c) for c in args.clients.split(",")]
    scenarios = [s for s in args.scenarios.split(",") if s]
    if "template" not in scenarios:
        scenarios.insert(0, "template")  # the reference of every ratio
    if args.duration * args.rounds * len(scenarios) * len(clients) * len(configs) > 3600:
        parser.error("more than an hour of load: fewer configs, scenarios or seconds")

    keys = []
    for config in configs:
        name, _, workers = config.partition(":")
        if name not in CONFIGS:
            parser.error(f"unknown config {name!r}")
        keys.append((name, int(workers or 1)))
    template, visitors = prepare_visitors(max(clients))
    try:
        all_results = run_all(
            keys,
            template,
            visitors,
            clients,
            args.duration,
            scenarios,
            args.rounds,
            args.think_ms / 1000,
        )
    finally:
        shutil.rmtree(template, ignore_errors=True)

    loads = [r.loadavg for results in all_results.values() for r in results]
    pacing = (
        f"think time {args.think_ms:g} ms × 0.5–1.5 after each response"
        if args.think_ms
        else "closed loop (no think time)"
    )
    print(
        f"Loopback, {args.rounds} × {args.duration:g} s per scenario and server (each after "
        f"{max(WARMUP_S, args.think_ms / 1000):g} s warm-up; servers take turns), {pacing}, "
        "one keep-alive connection per visitor; the load generator runs on the same 2 cores. "
        f"Machine load average during the runs: {min(loads):.1f}–{max(loads):.1f}.\n"
    )
    for (name, workers), results in all_results.items():
        print(table(name, workers, results))
        print()
        print(targets(name, workers, results))
        print()
    if len(all_results) > 1:
        print(comparison(all_results))
    if args.json:
        args.json.write_text(
            json.dumps(
                {label(*k): [r.summary() for r in v] for k, v in all_results.items()}, indent=2
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
