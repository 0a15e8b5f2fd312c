"""The merchant's HTTP face: the SUT contract of CONTRACT §3.

Endpoints are thin: parse, validate the order (``orders.build_invoice``), hand it to the
profile, write its answer. Everything that decides an outcome lives in the profiles.

Plain Starlette routes rather than FastAPI's: the SUT has no pydantic models to offer, and
FastAPI's middleware and dependency layers cost about a third of the merchant's CPU per order
(measured with cProfile on the hot path).
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fakes.merchant.bureau_client import Bureau, BureauClient
from fakes.merchant.lq_client import LqBureau, LqClient
from fakes.merchant.lq_naive import NaiveLq, RetryingLq
from fakes.merchant.lq_numbers import NumberBook
from fakes.merchant.lq_resilient import LqResilient
from fakes.merchant.lq_state import LqTuning
from fakes.merchant.orders import REVERSAL_REASONS, ORDER_ID_RE, OrderRejected, Seller, build_invoice, error_body
from fakes.merchant.profiles import Naive, Profile, Retrying
from fakes.merchant.resilient import Resilient, Tuning
from fakes.merchant.store import Store

PROFILES = ("naive", "retrying", "resilient")
CHANNELS = ("sync", "lq")


@dataclass(frozen=True)
class Settings:
    bureau_url: str
    state_dir: Path
    seller: Seller
    profile: str = "resilient"
    tuning: Tuning = field(default_factory=Tuning)
    seed: int | None = None
    channel: str = "sync"                 # sync: CONTRACT §1; lq: the 乐企 channel of §5.3-§5.4
    bureau_time_url: str | None = None    # lq: GET bureau time (default BUREAU_URL + /api/v1/time)
    lq_tuning: LqTuning = field(default_factory=LqTuning)

    @property
    def store_name(self) -> str:
        """The outbox file: one per profile and channel, so the channels never share state."""
        suffix = "" if self.channel == "sync" else f"-{self.channel}"
        return f"merchant-{self.profile}{suffix}.sqlite3"


def make_profile(settings: Settings, store: Store, bureau: Bureau) -> Profile:
    rng = random.Random(settings.seed)
    if settings.profile == "naive":
        return Naive(store, bureau, rng=rng)
    if settings.profile == "retrying":
        return Retrying(store, bureau, rng=rng)
    if settings.profile == "resilient":
        return Resilient(store, bureau, seller_tax_id=settings.seller.tax_id, tuning=settings.tuning, rng=rng)
    raise ValueError(f"unknown profile {settings.profile!r}; choose one of {', '.join(PROFILES)}")


def make_lq_profile(settings: Settings, store: Store, bureau: LqBureau) -> Profile:
    rng = random.Random(settings.seed)
    seller = settings.seller.tax_id
    if settings.profile == "naive":
        return NaiveLq(store, bureau, seller_tax_id=seller, rng=rng)
    if settings.profile == "retrying":
        return RetryingLq(store, bureau, seller_tax_id=seller, rng=rng)
    if settings.profile == "resilient":
        numbers = NumberBook(settings.state_dir / f"numbers-{settings.profile}-lq.sqlite3")
        return LqResilient(store, bureau, numbers, seller_tax_id=seller, tuning=settings.lq_tuning, rng=rng)
    raise ValueError(f"unknown profile {settings.profile!r}; choose one of {', '.join(PROFILES)}")


def create_app(settings: Settings, bureau: Bureau | LqBureau | None = None) -> Starlette:
    """The merchant app; ``bureau`` replaces the HTTP client (unit tests): a ``Bureau`` for the
    synchronous channel, an ``LqBureau`` for ``channel="lq"``."""
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        store = Store(settings.state_dir / settings.store_name)
        store.open()
        client: BureauClient | LqClient | None = None
        profile: Profile
        if settings.channel == "lq":
            if bureau is None:
                client = LqClient(settings.bureau_url, settings.bureau_time_url)
                await client.start()
            profile = make_lq_profile(settings, store, client or bureau)  # type: ignore[arg-type]
        else:
            if bureau is None:
                client = BureauClient(settings.bureau_url)
                await client.start()
            profile = make_profile(settings, store, client or bureau)  # type: ignore[arg-type]
        await profile.start()
        state["profile"] = profile
        try:
            yield
        finally:
            await profile.stop()
            await store.close()
            if client is not None:
                await client.close()

    def profile() -> Profile:
        return state["profile"]  # type: ignore[no-any-return]

    async def health(_: Request) -> Response:
        p = profile()
        return _json(200, {"status": "ok", "profile": p.name, "capabilities": list(p.capabilities)})

    async def post_invoice(request: Request) -> Response:
        try:
            body = parse_json(await request.body())
        except ValueError as exc:
            return _json(400, error_body("MALFORMED_REQUEST", f"the body must be a JSON object in UTF-8: {exc}"))
        try:
            invoice = build_invoice(body, settings.seller)
        except OrderRejected as exc:
            if exc.status == 400:
                return _json(400, error_body("MALFORMED_REQUEST", "the body must be a JSON object"))
            details = [p.as_dict() for p in exc.problems]
            return _json(422, error_body("VALIDATION_FAILED", f"the order breaks {len(details)} rule(s); see details", details))
        status, answer = await profile().submit(invoice)
        return _json(status, answer)

    async def get_invoice(request: Request) -> Response:
        order_id = request.path_params["order_id"]
        order = profile().store.get(order_id)
        if order is None:
            return _json(404, error_body("NOT_FOUND", f"no order {order_id}"))
        return _json(200, order.public())

    async def reverse(request: Request) -> Response:
        order_id = request.path_params["order_id"]
        p = profile()
        if "reverse" not in p.capabilities and "lq" not in p.capabilities:  # lq answers 409 itself
            return _json(404, error_body("NOT_SUPPORTED", f"profile {p.name} does not reverse invoices"))
        try:
            body = parse_json(await request.body() or b"{}")
        except ValueError as exc:
            return _json(400, error_body("MALFORMED_REQUEST", f"the body must be a JSON object in UTF-8: {exc}"))
        reason = body.get("reason", "01") if isinstance(body, dict) else None
        if reason not in REVERSAL_REASONS or not ORDER_ID_RE.fullmatch(order_id):
            detail = {"field": "reason", "code": "ENUM", "message": f"reason {reason!r} must be one of 01 02 03 04"}
            return _json(422, error_body("VALIDATION_FAILED", "the reversal request is invalid", [detail]))
        status, answer = await p.reverse(order_id, str(reason))
        return _json(status, answer)

    async def ledger(_: Request) -> Response:
        return _json(200, {"invoices": [o.public() for o in profile().store]})

    async def stats(_: Request) -> Response:
        p = profile()
        body: dict[str, Any] = {"pending": p.store.pending, "orders": len(p.store)}
        counters = getattr(p, "counters", None)
        if counters is not None:
            body["bureau_calls"] = dict(sorted(counters.items()))
            breaker = getattr(p, "breaker", None)
            if breaker is not None:
                body["breaker"] = breaker.state
        return _json(200, body)

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/invoices", post_invoice, methods=["POST"]),
        Route("/invoices/{order_id}", get_invoice, methods=["GET"]),
        Route("/invoices/{order_id}/reverse", reverse, methods=["POST"]),
        Route("/ledger", ledger, methods=["GET"]),
        Route("/stats", stats, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan,
                     exception_handlers={404: _http_error, 405: _http_error})


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer in the contract's error shape too."""
    status = int(getattr(exc, "status_code", 500))
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "ERROR")
    return _json(status, error_body(code, f"{request.method} {request.url.path}: {getattr(exc, 'detail', '')}"))


def parse_json(raw: bytes) -> Any:
    """JSON from the wire, which is UTF-8 (RFC 8259 §8.1): ``json.loads`` on bytes would also
    accept UTF-16 and UTF-32. Nesting too deep to parse is malformed input, not a crash."""
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except UnicodeDecodeError:
        raise ValueError("not valid UTF-8") from None


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status_code=status,
                    media_type="application/json")
