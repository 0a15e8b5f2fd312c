"""The merchant's HTTP face: the SUT contract of CONTRACT §3 on FastAPI.

Endpoints are thin: parse, validate the order (``orders.build_invoice``), hand it to the
profile, write its answer. Everything that decides an outcome lives in the profiles.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from fakes.merchant.bureau_client import Bureau, BureauClient
from fakes.merchant.orders import REVERSAL_REASONS, ORDER_ID_RE, OrderRejected, Seller, build_invoice, error_body
from fakes.merchant.profiles import Naive, Profile, Retrying
from fakes.merchant.resilient import Resilient, Tuning
from fakes.merchant.store import Store

PROFILES = ("naive", "retrying", "resilient")


@dataclass(frozen=True)
class Settings:
    bureau_url: str
    state_dir: Path
    seller: Seller
    profile: str = "resilient"
    tuning: Tuning = field(default_factory=Tuning)
    seed: int | None = None


def make_profile(settings: Settings, store: Store, bureau: Bureau) -> Profile:
    rng = random.Random(settings.seed)
    if settings.profile == "naive":
        return Naive(store, bureau, rng=rng)
    if settings.profile == "retrying":
        return Retrying(store, bureau, rng=rng)
    if settings.profile == "resilient":
        return Resilient(store, bureau, seller_tax_id=settings.seller.tax_id, tuning=settings.tuning, rng=rng)
    raise ValueError(f"unknown profile {settings.profile!r}; choose one of {', '.join(PROFILES)}")


def create_app(settings: Settings, bureau: Bureau | None = None) -> FastAPI:
    """The merchant app; ``bureau`` replaces the HTTP client (unit tests)."""
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        store = Store(settings.state_dir / f"merchant-{settings.profile}.sqlite3")
        store.open()
        client: BureauClient | None = None
        target: Bureau
        if bureau is None:
            client = BureauClient(settings.bureau_url)
            await client.start()
            target = client
        else:
            target = bureau
        profile = make_profile(settings, store, target)
        await profile.start()
        state["profile"] = profile
        try:
            yield
        finally:
            await profile.stop()
            await store.close()
            if client is not None:
                await client.close()

    app = FastAPI(title="invoice-chaos reference merchant", lifespan=lifespan, openapi_url=None)

    def profile() -> Profile:
        return state["profile"]  # type: ignore[no-any-return]

    @app.get("/health")
    async def health() -> Response:
        p = profile()
        return _json(200, {"status": "ok", "profile": p.name, "capabilities": list(p.capabilities)})

    @app.post("/invoices")
    async def post_invoice(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return _json(400, error_body("MALFORMED_REQUEST", "the body must be a JSON object"))
        try:
            invoice = build_invoice(body, settings.seller)
        except OrderRejected as exc:
            if exc.status == 400:
                return _json(400, error_body("MALFORMED_REQUEST", "the body must be a JSON object"))
            details = [p.as_dict() for p in exc.problems]
            return _json(422, error_body("VALIDATION_FAILED", f"the order breaks {len(details)} rule(s); see details", details))
        status, answer = await profile().submit(invoice)
        return _json(status, answer)

    @app.get("/invoices/{order_id}")
    async def get_invoice(order_id: str) -> Response:
        order = profile().store.get(order_id)
        if order is None:
            return _json(404, error_body("NOT_FOUND", f"no order {order_id}"))
        return _json(200, order.public())

    @app.post("/invoices/{order_id}/reverse")
    async def reverse(order_id: str, request: Request) -> Response:
        p = profile()
        if "reverse" not in p.capabilities:
            return _json(404, error_body("NOT_SUPPORTED", f"profile {p.name} does not reverse invoices"))
        try:
            body = json.loads(await request.body() or b"{}")
        except (ValueError, UnicodeDecodeError):
            return _json(400, error_body("MALFORMED_REQUEST", "the body must be a JSON object"))
        reason = body.get("reason", "01") if isinstance(body, dict) else None
        if reason not in REVERSAL_REASONS or not ORDER_ID_RE.fullmatch(order_id):
            detail = {"field": "reason", "code": "ENUM", "message": f"reason {reason!r} must be one of 01 02 03 04"}
            return _json(422, error_body("VALIDATION_FAILED", "the reversal request is invalid", [detail]))
        status, answer = await p.reverse(order_id, str(reason))
        return _json(status, answer)

    @app.get("/ledger")
    async def ledger() -> Response:
        return _json(200, {"invoices": [o.public() for o in profile().store]})

    @app.get("/stats")
    async def stats() -> Response:
        p = profile()
        body: dict[str, Any] = {"pending": p.store.pending, "orders": len(p.store)}
        counters = getattr(p, "counters", None)
        if counters is not None:
            body["bureau_calls"] = dict(sorted(counters.items()))
            body["breaker"] = p.breaker.state  # type: ignore[attr-defined]
        return _json(200, body)

    return app


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status_code=status,
                    media_type="application/json")
