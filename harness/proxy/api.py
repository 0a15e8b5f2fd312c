"""The REST API: routing, the middleware Toxiproxy applies, and the proxy endpoints.

Routes match as gorilla/mux does in Toxiproxy: no trailing-slash normalisation, 404 with Go's
text page for unknown paths, 405 with an empty body for a known path and a wrong method. Only
matched routes get the request id header and the browser block.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from harness.proxy import api_toxics, responses
from harness.proxy.errors import PROXY_EXISTS, PROXY_NOT_FOUND, ApiError, fail
from harness.proxy.http import Request, Response
from harness.proxy.jsonio import expect_object, opt_bool, opt_str, parse_body
from harness.proxy.listen import resolve
from harness.proxy.proxy import Proxy
from harness.proxy.reqid import new_request_id
from harness.proxy.rng import SeedSource

HANDLER_TIMEOUT_S = 25.0
log = logging.getLogger("harness.proxy.api")
Route = Callable[..., Awaitable[Response]]


class Api:
    """The proxy table and the HTTP handlers over it; one lock serialises every change."""

    def __init__(self, seeds: SeedSource) -> None:
        self.seeds = seeds
        self.proxies: dict[str, Proxy] = {}
        self.lock = asyncio.Lock()
        t = api_toxics
        self.routes: list[tuple[re.Pattern[str], dict[str, Route]]] = [
            (re.compile(r"/version"), {"GET": self.version}),
            (re.compile(r"/reset"), {"POST": self.reset}),
            (re.compile(r"/populate"), {"POST": self.populate}),
            (re.compile(r"/proxies"), {"GET": self.list_proxies, "POST": self.create_proxy}),
            (re.compile(r"/proxies/([^/]+)"), {
                "GET": self.show_proxy, "POST": self.update_proxy,
                "PATCH": self.update_proxy, "DELETE": self.delete_proxy}),
            (re.compile(r"/proxies/([^/]+)/toxics"), {
                "GET": self._with_proxy(t.list_toxics), "POST": self._with_proxy(t.create_toxic)}),
            (re.compile(r"/proxies/([^/]+)/toxics/([^/]+)"), {
                "GET": self._with_proxy(t.show_toxic), "POST": self._with_proxy(t.update_toxic),
                "PATCH": self._with_proxy(t.update_toxic),
                "DELETE": self._with_proxy(t.delete_toxic)}),
        ]

    # -- dispatch ----------------------------------------------------------------------------
    async def handle(self, req: Request) -> Response:
        path = unquote(req.path)        # gorilla/mux matches the decoded path
        for pattern, methods in self.routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            route = methods.get(req.method)
            if route is None:
                return responses.METHOD_NOT_ALLOWED
            resp = await self._run(route, req, list(match.groups()))
            resp.headers.append(("X-Toxiproxy-Request-Id", new_request_id()))
            if req.method != "GET":     # every change, for the run's proxy log
                log.info("%s %s -> %d %s", req.method, path, resp.status,
                         resp.body[:300].decode("utf-8", "replace").strip())
            return resp
        return responses.NOT_FOUND_PAGE

    async def _run(self, route: Route, req: Request, args: list[str]) -> Response:
        if req.headers.get("user-agent", "").startswith("Mozilla/"):
            return Response(403, responses.BROWSER_BLOCKED_BODY, "text/plain")
        try:
            async with self.lock:
                return await asyncio.wait_for(route(req, *args), HANDLER_TIMEOUT_S)
        except ApiError as err:
            return responses.error_response(err)
        except asyncio.TimeoutError:
            return Response(503)

    def _with_proxy(self, handler: Callable[..., Awaitable[Response]]) -> Route:
        async def route(req: Request, name: str, *rest: str) -> Response:
            return await handler(self._get(name), req, *rest)
        return route

    def _get(self, name: str) -> Proxy:
        proxy = self.proxies.get(name)
        if proxy is None:
            raise fail(PROXY_NOT_FOUND)
        return proxy

    # -- endpoints ---------------------------------------------------------------------------
    async def version(self, req: Request) -> Response:
        return responses.version_response()

    async def list_proxies(self, req: Request) -> Response:
        return responses.json_response({n: p.to_json() for n, p in self.proxies.items()})

    async def show_proxy(self, req: Request, name: str) -> Response:
        return responses.json_response(self._get(name).to_json())

    async def create_proxy(self, req: Request) -> Response:
        fields = _proxy_fields(parse_body(req.body))
        name, upstream = fields["name"] or "", fields["upstream"] or ""
        if not name:
            raise ApiError("missing required field: name", 400)
        if not upstream:
            raise ApiError("missing required field: upstream", 400)
        if name in self.proxies:
            raise fail(PROXY_EXISTS)
        proxy = Proxy(name, fields["listen"] or "", upstream, self.seeds)
        if fields["enabled"] is not False:
            await proxy.start()
        self.proxies[name] = proxy
        return responses.json_response(proxy.to_json(), 201)

    async def update_proxy(self, req: Request, name: str) -> Response:
        proxy = self._get(name)
        fields = _proxy_fields(parse_body(req.body))
        listen = fields["listen"] if fields["listen"] is not None else proxy.listen
        upstream = fields["upstream"] if fields["upstream"] is not None else proxy.upstream
        enabled = fields["enabled"] if fields["enabled"] is not None else proxy.enabled
        if upstream != proxy.upstream or not await same_listen(proxy, listen):
            proxy.stop()
            proxy.listen, proxy.upstream = listen, upstream
        if enabled and not proxy.enabled:
            await proxy.start()
        elif not enabled and proxy.enabled:
            proxy.stop()
        return responses.json_response(proxy.to_json())

    async def delete_proxy(self, req: Request, name: str) -> Response:
        self._get(name).stop()
        del self.proxies[name]
        return responses.no_content()

    async def reset(self, req: Request) -> Response:
        for proxy in list(self.proxies.values()):
            await proxy.start()
            proxy.remove_all_toxics()
        return responses.no_content()

    async def populate(self, req: Request) -> Response:
        done: list[dict[str, Any]] = []
        try:
            entries = parse_populate(parse_body(req.body))
            for entry in entries:
                done.append(await self.populate_one(entry))
        except ApiError as err:
            return responses.populate_error(err, done)
        return responses.json_response({"proxies": done}, 201)

    async def populate_one(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Keep an identical proxy untouched; replace a different one; create a missing one."""
        name, listen, upstream = entry["name"], entry["listen"] or "", entry["upstream"]
        old = self.proxies.get(name)
        if old is not None:
            if old.upstream == upstream and await same_listen(old, listen):
                return old.to_json()
            old.stop()
        proxy = Proxy(name, listen, upstream, self.seeds)
        if entry["enabled"] is not False:
            await proxy.start()         # on failure the old proxy stays, stopped
        self.proxies[name] = proxy
        return proxy.to_json()

    def close_all(self) -> None:
        for proxy in self.proxies.values():
            proxy.stop()


def _proxy_fields(value: Any) -> dict[str, Any]:
    obj = expect_object(value, "api.proxy")
    return {
        "name": opt_str(obj, "name", "proxy"),
        "listen": opt_str(obj, "listen", "proxy"),
        "upstream": opt_str(obj, "upstream", "proxy"),
        "enabled": opt_bool(obj, "enabled", "proxy"),
    }


def parse_populate(value: Any) -> list[dict[str, Any]]:
    """Decode and validate a populate body (a JSON array); nothing is created on a 400."""
    if not isinstance(value, list):
        raise ApiError("bad request body: json: cannot unmarshal object into Go value of type "
                       "[]api.proxy", 400)
    entries = [_proxy_fields(v) for v in value]
    for i, entry in enumerate(entries, start=1):
        for key in ("name", "upstream"):
            if not entry[key]:
                raise ApiError(f"missing required field: {key} at proxy {i}", 400)
    return entries


async def same_listen(proxy: Proxy, listen: str) -> bool:
    """Toxiproxy 2.12: compare the resolved new address with the current one (port 0 differs)."""
    if listen == "" or listen.endswith(":0"):
        return False
    new = str(await resolve(listen))
    if new == proxy.listen:
        return True
    try:
        return new == str(await resolve(proxy.listen))
    except ApiError:
        return False
