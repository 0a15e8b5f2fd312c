"""Network faults through the Toxiproxy REST API: the embedded server or any real Toxiproxy.

Two layers:

* ``ToxiproxyClient`` — an adapter over ``toxiproxy-python``. That library keeps the server
  address in class attributes of ``APIConsumer``, sets no timeouts, has no toxic update and
  turns HTTP errors into its own exceptions; the adapter uses a per-instance ``APIConsumer``
  subclass (no shared mutable state, so two servers can be driven at once), passes a deadline
  to every call, implements update as remove + add, and maps every failure to ``FaultError``.
* ``NetworkInjector`` — the ``network`` fault family (``harness.faults.base.Injector``): each
  kind becomes one toxic per stream (or a disabled proxy for ``down``) and its revert removes
  exactly what it added.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists
from toxiproxy.proxy import Proxy
from toxiproxy.toxic import Toxic

from harness.errors import FaultError
from harness.faults.base import FaultContext, FaultSpec, Revert, once

DEFAULT_URL = "http://127.0.0.1:8474"
DEFAULT_TIMEOUT_S = 5.0


class ToxiproxyClient:
    """Synchronous Toxiproxy API client with a deadline on every call; errors are ``FaultError``."""

    def __init__(self, url: str = DEFAULT_URL, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if not parts.hostname or parts.scheme != "http":
            raise FaultError(f"toxiproxy url {url!r}: expected http://HOST:PORT")
        self.url = f"http://{parts.hostname}:{parts.port or 8474}"
        self.timeout_s = timeout_s
        # A subclass per client: toxiproxy-python reads host/port from the class it is called on.
        self._api: type[APIConsumer] = type(
            "BoundAPIConsumer", (APIConsumer,), {"host": parts.hostname, "port": parts.port or 8474})

    def _call(self, what: str, method: str, path: str, body: Any = None,
              missing_ok: bool = False) -> requests.Response | None:
        kwargs: dict[str, Any] = {"timeout": self.timeout_s}
        if body is not None:
            kwargs["json"] = body
        try:
            resp: requests.Response = getattr(self._api, method)(path, **kwargs)
        except NotFound as exc:
            if missing_ok:
                return None
            raise FaultError(f"{what}: not found at {self.url}: {_text(exc)}") from None
        except (ProxyExists, InvalidToxic) as exc:
            raise FaultError(f"{what}: refused by {self.url}: {_text(exc)}") from None
        except requests.Timeout:
            raise FaultError(f"{what}: {self.url} did not answer within {self.timeout_s:g} s") from None
        except requests.RequestException as exc:
            raise FaultError(f"{what}: cannot reach toxiproxy at {self.url}: {exc}") from None
        if resp.status_code >= 400:
            raise FaultError(f"{what}: {self.url} answered {resp.status_code}: {resp.text.strip()}")
        return resp

    def version(self) -> str:
        """The server's version ("2.12.0"); accepts both the JSON (≥ 2.7) and plain forms."""
        resp = self._call("version", "get", "/version")
        assert resp is not None
        try:
            return str(resp.json()["version"])
        except (ValueError, KeyError, TypeError):
            return resp.text.strip()

    def create_proxy(self, name: str, listen: str, upstream: str) -> str:
        """Create an enabled proxy; returns the listen address actually bound ("127.0.0.1:41234")."""
        resp = self._call(f"create proxy {name!r}", "post", "/proxies",
                          {"name": name, "listen": listen, "upstream": upstream, "enabled": True})
        assert resp is not None
        return str(Proxy(**resp.json()).listen)

    def proxy(self, name: str) -> Proxy:
        resp = self._call(f"proxy {name!r}", "get", f"/proxies/{name}")
        assert resp is not None
        return Proxy(**resp.json())

    def delete_proxy(self, name: str) -> None:
        """Delete a proxy; an absent one is fine (cleanup is idempotent)."""
        self._call(f"delete proxy {name!r}", "delete", f"/proxies/{name}", missing_ok=True)

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Enable or disable (``down``: listener closed, connections dropped) a proxy."""
        self._call(f"{'enable' if enabled else 'disable'} proxy {name!r}", "post",
                   f"/proxies/{name}", {"enabled": enabled})

    def toxics(self, proxy: str) -> dict[str, Toxic]:
        resp = self._call(f"toxics of {proxy!r}", "get", f"/proxies/{proxy}/toxics")
        assert resp is not None
        return {t["name"]: Toxic(**t) for t in resp.json()}

    def add_toxic(self, proxy: str, name: str, type: str, stream: str = "downstream",
                  toxicity: float = 1.0, attributes: Mapping[str, int] | None = None) -> Toxic:
        body = {"name": name, "type": type, "stream": stream, "toxicity": toxicity,
                "attributes": dict(attributes or {})}
        resp = self._call(f"add toxic {name!r} to {proxy!r}", "post", f"/proxies/{proxy}/toxics", body)
        assert resp is not None
        return Toxic(**resp.json())

    def update_toxic(self, proxy: str, name: str, attributes: Mapping[str, int] | None = None,
                     toxicity: float | None = None) -> Toxic:
        """Change a toxic as remove + add (toxiproxy-python has no update; works on any server)."""
        current = self.toxics(proxy).get(name)
        if current is None:
            raise FaultError(f"update toxic {name!r} of {proxy!r}: not found at {self.url}")
        self.remove_toxic(proxy, name)
        return self.add_toxic(proxy, name, current.type, current.stream,
                              current.toxicity if toxicity is None else toxicity,
                              {**current.attributes, **(attributes or {})})

    def remove_toxic(self, proxy: str, name: str) -> None:
        """Remove a toxic; an absent toxic or proxy is fine (cleanup is idempotent)."""
        self._call(f"remove toxic {name!r} from {proxy!r}", "delete",
                   f"/proxies/{proxy}/toxics/{name}", missing_ok=True)

    def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        self._call("reset", "post", "/reset")


def _text(exc: Exception) -> str:
    arg = exc.args[0] if exc.args else ""
    return arg.decode("utf-8", "replace").strip() if isinstance(arg, bytes) else str(arg)


# -- the network fault family ----------------------------------------------------------------

# kind -> (toxic type, default stream, {param: (default or REQUIRED, minimum)}, description)
REQUIRED = object()
_TOXICITY = "toxicity"
_KINDS: dict[str, tuple[str, str, dict[str, tuple[Any, int]], str]] = {
    "latency": ("latency", "downstream", {"ms": (REQUIRED, 0), "jitter_ms": (0, 0)},
                "delay every chunk by ms ± jitter_ms"),
    "jitter": ("latency", "downstream", {"ms": (0, 0), "jitter_ms": (REQUIRED, 1)},
               "delay every chunk by a random 0..jitter_ms (plus ms)"),
    "bandwidth": ("bandwidth", "downstream", {"rate_kbps": (REQUIRED, 1)},
                  "limit throughput to rate_kbps KB/s"),
    "timeout": ("timeout", "upstream", {"ms": (0, 0)},
                "swallow data and close the connection after ms (0: hang until reverted)"),
    "reset": ("reset_peer", "upstream", {"timeout_ms": (0, 0)},
              "reset (RST) the connection timeout_ms after its first bytes"),
    "slicer": ("slicer", "downstream",
               {"average_size": (64, 1), "size_variation": (0, 0), "delay_us": (0, 0)},
               "cut the stream into small packets"),
    "limit_data": ("limit_data", "downstream", {"bytes": (REQUIRED, 0)},
                   "close the connection after bytes bytes"),
    "partial": ("reset_peer", "upstream", {"timeout_ms": (0, 0)},
                "reset a share (toxicity, required) of the connections"),
    "down": ("", "", {}, "disable the proxy: connections refused and dropped (full outage)"),
}
_ATTRIBUTE = {"ms": "latency", "jitter_ms": "jitter", "rate_kbps": "rate", "bytes": "bytes",
              "average_size": "average_size", "size_variation": "size_variation",
              "delay_us": "delay"}
_STREAMS = {"upstream": ("upstream",), "downstream": ("downstream",),
            "both": ("upstream", "downstream")}


def _attributes(kind: str, params: Mapping[str, Any]) -> dict[str, int]:
    toxic_type, _, schema, _ = _KINDS[kind]
    values = {p: (params.get(p, d)) for p, (d, _) in schema.items()}
    if toxic_type in ("timeout", "reset_peer"):
        return {"timeout": int(values.get("ms", values.get("timeout_ms", 0)))}
    return {_ATTRIBUTE[p]: int(v) for p, v in values.items()}


class NetworkInjector:
    """The ``network`` fault family over the Toxiproxy API (``ctx.toxiproxy_url``)."""

    family = "network"

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s

    def kinds(self) -> Mapping[str, str]:
        return {k: v[3] for k, v in _KINDS.items()}

    def check(self, spec: FaultSpec) -> list[str]:
        if spec.family != self.family:
            return [f"family: {spec.family!r} is not handled by the network injector"]
        if spec.kind not in _KINDS:
            return [f"kind: {spec.kind!r} is not a network fault (one of: {', '.join(_KINDS)})"]
        problems: list[str] = []
        if not spec.target:
            problems.append("target: a network fault needs the name of a link, e.g. 'bureau'")
        _, _, schema, _ = _KINDS[spec.kind]
        allowed = set(schema) | ({"stream", _TOXICITY} if spec.kind != "down" else set())
        for key, value in spec.params.items():
            if key not in allowed:
                problems.append(f"params.{key}: unknown for kind {spec.kind!r} "
                                f"(allowed: {', '.join(sorted(allowed)) or 'none'})")
        for key, (default, minimum) in schema.items():
            value = spec.params.get(key, default)
            if value is REQUIRED:
                problems.append(f"params.{key}: required for kind {spec.kind!r}")
            elif isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                problems.append(f"params.{key}: must be an integer ≥ {minimum}, got {value!r}")
        stream = spec.params.get("stream", _KINDS[spec.kind][1])
        if spec.kind != "down" and stream not in _STREAMS:
            problems.append(f"params.stream: must be upstream, downstream or both, got {stream!r}")
        if _TOXICITY in spec.params or spec.kind == "partial":
            tox = spec.params.get(_TOXICITY, REQUIRED)
            if tox is REQUIRED:
                problems.append("params.toxicity: required for kind 'partial' (a share 0..1)")
            elif isinstance(tox, bool) or not isinstance(tox, (int, float)) or not 0 <= tox <= 1:
                problems.append(f"params.toxicity: must be a number from 0 to 1, got {tox!r}")
        return problems

    async def apply(self, spec: FaultSpec, ctx: FaultContext) -> Revert:
        problems = self.check(spec)
        if problems:
            raise FaultError(f"fault {spec.id}: " + "; ".join(problems))
        client = ToxiproxyClient(ctx.toxiproxy_url, self.timeout_s)
        proxy = ctx.proxy_name(spec.target)
        if spec.kind == "down":
            await self._call(client.set_enabled, proxy, False)
            return once(lambda: self._call(client.set_enabled, proxy, True))
        toxic_type, default_stream, _, _ = _KINDS[spec.kind]
        names: list[str] = []

        async def revert() -> None:
            for name in reversed(names):
                await self._call(client.remove_toxic, proxy, name)

        try:
            for stream in _STREAMS[str(spec.params.get("stream", default_stream))]:
                name = f"{spec.id}-{spec.kind}-{stream}"
                await self._call(client.add_toxic, proxy, name, toxic_type, stream,
                                 float(spec.params.get(_TOXICITY, 1.0)),
                                 _attributes(spec.kind, spec.params))
                names.append(name)
        except BaseException:
            await revert()          # never leave half a fault behind
            raise
        return once(revert)

    async def _call(self, fn: Any, *args: Any) -> Any:
        # The library is synchronous: run it off the loop, bounded by the client's deadline.
        try:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args), self.timeout_s + 1.0)
        except asyncio.TimeoutError:
            raise FaultError(f"toxiproxy call {getattr(fn, '__name__', fn)} timed out") from None
