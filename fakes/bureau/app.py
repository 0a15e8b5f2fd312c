"""Assembles the bureau: FastAPI app, ledger lifecycle, fault middleware, error handlers.

``create_app(settings)`` is what the CLI serves and what tests mount in-process::

    FaultMiddleware (faults, X-Bureau-Time, request log; /api/ only)
      └── FastAPI: /api/v1 (api.py), /api/v1/lq + /api/v1/time (lq/api.py), /admin (admin.py), /health
            ├── service.Bureau (synchronous channel) ─┐
            └── lq.channel.LqChannel (乐企 channel) ───┴── ledger.Ledger (SQLite, group-commit writer)
                              both on clock.BureauClock (persisted) and quota.QuotaBook
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.responses import Response
from starlette.routing import Match

from fakes.bureau import admin, api, clock as clocks, openapi, openapi_lq
from fakes.bureau.clock import BureauClock
from fakes.bureau.errors import ApiError, code_for_status, internal_error
from fakes.bureau.fastpath import BureauApp, IssueEndpoint
from fakes.bureau.faults.board import FaultBoard
from fakes.bureau.faults.hooks import note_error
from fakes.bureau.faults.middleware import FaultMiddleware
from fakes.bureau.http import error_response, json_response
from fakes.bureau.ledger import Ledger
from fakes.bureau.lq import api as lq_api, channel as lq_channel
from fakes.bureau.quota import QuotaBook
from fakes.bureau.requestlog import RequestLog
from fakes.bureau.rules import Problem
from fakes.bureau.service import Bureau
from fakes.bureau.settings import Settings

ANCHOR_EVERY_S = 1.0


def create_app(settings: Settings) -> FastAPI:
    ledger = Ledger(settings.db_path, settings.commit_batch)
    clock = BureauClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = ledger.open()
        quota = QuotaBook(settings.quota_cents)
        conn = sqlite3.connect(settings.db_path, isolation_level=None)
        try:
            anchor = clocks.load_state(conn, settings.clock_start, settings.clock_rate)
            quota.load(conn)
        finally:
            conn.close()
        clock.restore(anchor)
        loaded = lq_channel.load(settings.db_path)
        ledger.start(asyncio.get_running_loop())
        bureau = app.state.bureau = Bureau(settings, ledger, state, clock, quota)
        channel = app.state.lq = lq_channel.LqChannel(bureau, board, loaded)
        await ledger.submit_statements([(clocks.SAVE, _anchor(clock))])  # a new clock is durable at once
        anchoring = asyncio.get_running_loop().create_task(_keep_anchored(clock, ledger))
        channel.start()
        app.state.ready = True
        try:
            yield
        finally:
            app.state.ready = False
            anchoring.cancel()
            await channel.stop()
            ledger.write_quietly([(clocks.SAVE, _anchor(clock))])
            ledger.close()

    app = BureauApp(title="invoice-chaos fake tax bureau (数电票 platform model)", version="1",
                    lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.ready = False
    app.state.clock = clock
    app.state.board = board = FaultBoard(settings.seed)
    app.state.requestlog = log = RequestLog(ledger)
    app.router.routes.extend(api.ROUTES)
    app.router.routes.extend(lq_api.ROUTES)
    document = openapi.document(app.title, app.version, openapi_lq.paths())
    app.openapi = lambda: document  # type: ignore[method-assign]
    app.include_router(admin.router)

    @app.get("/health", include_in_schema=False)
    async def health(request: Request) -> Response:
        if not request.app.state.ready:
            return json_response({"status": "starting"}, 503)
        return json_response({"status": "ok"})

    _install_error_handlers(app)
    # A separate RNG for latency jitter keeps the probability draws reproducible per seed.
    jitter_rng = random.Random(settings.seed + 1)
    app.add_middleware(FaultMiddleware, board=board, log=log, rng_jitter=jitter_rng.random, clock=clock)
    # The hot path (fastpath.py): the same error and fault middleware, the same jitter draws.
    faulted = FaultMiddleware(IssueEndpoint(app), board=board, log=log, rng_jitter=jitter_rng.random, clock=clock)
    app.fast = ServerErrorMiddleware(faulted, handler=app.exception_handlers[Exception], debug=False)
    return app


def _anchor(clock: BureauClock) -> tuple[float, float, float]:
    state = clock.state()
    return (state.anchor_real, state.anchor_bureau, state.rate)


async def _keep_anchored(clock: BureauClock, ledger: Ledger) -> None:
    """Re-anchor the persisted clock every second: after a crash it never restarts behind that."""
    while True:
        await asyncio.sleep(ANCHOR_EVERY_S)
        ledger.write_quietly([(clocks.SAVE, _anchor(clock))])


def _answer_error(request: Request, exc: ApiError) -> Response:
    note_error(request.scope, exc.code)  # for the request log's error_code
    return error_response(exc)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return _answer_error(request, exc)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = f"{request.method} {request.url.path}: {exc.detail}"
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return _answer_error(request, ApiError(exc.status_code, code_for_status(exc.status_code), message, headers=headers))

    @app.exception_handler(RequestValidationError)
    async def bad_params(request: Request, exc: RequestValidationError) -> Response:
        problems = [Problem(".".join(str(p) for p in e.get("loc", ())), "INVALID", str(e.get("msg", "invalid")))
                    for e in exc.errors()]
        return _answer_error(request, ApiError(422, "VALIDATION_FAILED", "the request parameters are invalid",
                                               details=problems))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        # Never a traceback in a body; the server log keeps it.
        return error_response(internal_error(exc))


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE and getattr(route, "methods", None):
            methods |= set(route.methods)
    # Starlette serves HEAD wherever GET is; the document lists GET only.
    return sorted(methods - {"HEAD"})
