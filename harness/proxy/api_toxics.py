"""The toxic endpoints: list, create (200, not 201), show, update (PATCH or POST), delete."""

from __future__ import annotations

from typing import Any

from harness.proxy import responses
from harness.proxy.errors import INVALID_STREAM, INVALID_TOXIC_TYPE, TOXIC_EXISTS, ApiError, fail
from harness.proxy.http import Request, Response
from harness.proxy.jsonio import expect_object, opt_float, opt_int, opt_str, parse_body
from harness.proxy.proxy import Proxy
from harness.proxy.toxics import REGISTRY, Toxic


async def list_toxics(proxy: Proxy, req: Request) -> Response:
    return responses.json_response([t.to_json() for t in proxy.toxics()])


async def show_toxic(proxy: Proxy, req: Request, name: str) -> Response:
    return responses.json_response(proxy.find_toxic(name).to_json())


async def delete_toxic(proxy: Proxy, req: Request, name: str) -> Response:
    proxy.remove_toxic(proxy.find_toxic(name))
    return responses.no_content()


def _attributes(value: Any, cls: type[Toxic], only_given: bool) -> dict[str, int]:
    """Decode ``attributes`` for ``cls``: unknown keys ignored, wrong types a 400."""
    if value is None:
        return {}
    obj = expect_object(value, "toxics.Toxic")
    out: dict[str, int] = {}
    for key in cls.attribute_names:
        number = opt_int(obj, key, "attributes")
        if number is not None or not only_given:
            out[key] = number or 0
    return out


async def create_toxic(proxy: Proxy, req: Request) -> Response:
    obj = expect_object(parse_body(req.body), "toxics.ToxicWrapper")
    type_name = opt_str(obj, "type", "ToxicWrapper") or ""
    stream = opt_str(obj, "stream", "ToxicWrapper")
    stream = "downstream" if stream is None else stream
    toxicity = opt_float(obj, "toxicity", "ToxicWrapper")
    if obj.get("attributes") is not None and not isinstance(obj["attributes"], dict):
        expect_object(obj["attributes"], "toxics.Toxic")
    if stream.lower() not in ("upstream", "downstream"):
        raise fail(INVALID_STREAM)
    name = opt_str(obj, "name", "ToxicWrapper") or f"{type_name}_{stream}"
    cls = REGISTRY.get(type_name)
    if cls is None:
        raise fail(INVALID_TOXIC_TYPE)
    if any(t.name == name for t in proxy.toxics()):
        raise fail(TOXIC_EXISTS)
    attrs = _attributes(obj.get("attributes"), cls, only_given=False)
    toxic = cls(name, stream, 1.0 if toxicity is None else toxicity, attrs)
    problem = toxic.problem()
    if problem:
        raise ApiError(problem, 400)
    proxy.add_toxic(toxic)
    return responses.json_response(toxic.to_json())


async def update_toxic(proxy: Proxy, req: Request, name: str) -> Response:
    toxic = proxy.find_toxic(name)      # looked up before the body is parsed, as in Go
    obj = expect_object(parse_body(req.body), "toxics.ToxicWrapper")
    attrs = _attributes(obj.get("attributes"), type(toxic), only_given=True)
    toxicity = opt_float(obj, "toxicity", "ToxicWrapper")
    trial = type(toxic)(toxic.name, toxic.stream, toxic.toxicity, {**toxic.attributes, **attrs})
    problem = trial.problem()
    if problem:
        raise ApiError(problem, 400)
    proxy.update_toxic(toxic, attrs, toxicity)
    return responses.json_response(toxic.to_json())
