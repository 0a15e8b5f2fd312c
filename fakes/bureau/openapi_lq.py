"""The OpenAPI paths of the asynchronous channel (CONTRACT §5.3-§5.6) and of ``/api/v1/time``.

Merged into ``openapi.document``. Request schemas say no more than the handlers check before
answering (an upload's invoices are judged later, so the document only asks for objects):
Schemathesis sends what breaks a schema and expects a 4xx.
"""

from __future__ import annotations

from typing import Any

from fakes.bureau.openapi import RECORD, REQUEST_ID, errors_table, json_answer, path_param, responses

NUMBER = {"type": "string", "pattern": r"^\d{20}$"}
TIME = {"type": "string", "format": "date-time"}
DETAIL = {"type": "object", "required": ["field", "code", "message"],
          "properties": {"field": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}}}
RANGE_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["request_id", "seller_tax_id", "count"],
    "properties": {"request_id": REQUEST_ID, "seller_tax_id": {"type": "string"},
                   "count": {"type": "integer", "minimum": 1, "maximum": 5000}},
}
RANGE: dict[str, Any] = {
    "type": "object",
    "required": ["range_id", "year", "first", "last", "count"],
    "properties": {"range_id": {"type": "string"}, "year": {"type": "integer"}, "first": NUMBER, "last": NUMBER,
                   "count": {"type": "integer"}},
}
UPLOAD_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["invoices"],
    "properties": {"invoices": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"type": "object"},
                                "description": "§1 issue bodies plus invoice_number and issued_at (yyyy-MM-dd HH:mm:ss,"
                                               " CST); red invoices add red_for and confirmation_id"}},
}
ACCEPTED: dict[str, Any] = {
    "type": "object", "required": ["upload_id", "count"],
    "properties": {"upload_id": {"type": "string"}, "count": {"type": "integer"}},
}
RESULTS: dict[str, Any] = {
    "type": "object",
    "required": ["upload_id", "received_at", "results"],
    "properties": {
        "upload_id": {"type": "string"},
        "received_at": TIME,
        "results": {"type": "array", "items": {
            "type": "object", "required": ["invoice_number", "code", "message", "details"],
            "properties": {"invoice_number": {"type": ["string", "null"]},
                           "code": {"type": "string", "enum": ["00", "01", "02", "03"]},
                           "message": {"type": "string"}, "details": {"type": "array", "items": DETAIL}}}},
    },
}
APPLICATION_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["blue_invoice_number", "reason", "initiator"],
    "properties": {"blue_invoice_number": {"type": "string"},
                   "reason": {"type": "string", "enum": ["01", "02", "03", "04"]},
                   "initiator": {"type": "string", "enum": ["seller"]}},
}
STATUS = {"type": "string", "enum": ["01", "02", "04", "06", "07"]}
CREATED: dict[str, Any] = {
    "type": "object", "required": ["confirmation_id", "status"],
    "properties": {"confirmation_id": {"type": "string"}, "status": STATUS},
}
CONFIRMATION: dict[str, Any] = {
    "type": "object",
    "required": ["confirmation_id", "status", "blue_invoice_number", "reason", "initiator", "created_at"],
    "properties": {"confirmation_id": {"type": "string"}, "status": STATUS, "blue_invoice_number": NUMBER,
                   "reason": {"type": "string"}, "initiator": {"type": "string"}, "created_at": TIME,
                   "red_invoice_number": {"type": ["string", "null"]}},
}
FAILURES = (401, 429, 500, 502, 503, 504)


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _op(summary: str, operation_id: str, ok: dict[int | str, dict[str, Any]], *errors: int,
        **extra: Any) -> dict[str, Any]:
    table = {**ok, **errors_table(*errors, *FAILURES)}
    return {"summary": summary, "operationId": operation_id, **extra, "responses": responses(table)}


def paths() -> dict[str, Any]:
    """The path items to add to the document."""
    return {
        "/api/v1/time": {"get": _op("Bureau time (CONTRACT §5.1)", "bureau_time", {
            200: json_answer({"type": "object", "required": ["now"], "properties": {"now": TIME}}, "the bureau's clock")})},
        "/api/v1/lq/ranges": {"post": _op("Allocate a number range (号段)", "allocate_range", {
            201: json_answer(RANGE, "allocated and durable"),
            200: json_answer(RANGE, "replay of a known request_id with the same count (Idempotent-Replayed: true)")},
            400, 409, 413, 422, **_body(RANGE_BODY))},
        "/api/v1/lq/uploads": {"post": _op("Upload invoices numbered from ranges", "upload", {
            202: json_answer(ACCEPTED, "stored durably; judged after processing_s")}, 400, 409, 413, 422,
            **_body(UPLOAD_BODY))},
        "/api/v1/lq/uploads/{upload_id}": {"get": _op("An upload's results", "upload_results", {
            200: json_answer(RESULTS, "one result per invoice, in upload order")}, 404, 410,
            parameters=[path_param("upload_id")])},
        "/api/v1/lq/invoices/{invoice_number}": {"get": _op("An accepted invoice, by number", "get_lq_invoice", {
            200: json_answer(RECORD, "the accepted record")}, 404, parameters=[path_param("invoice_number")])},
        "/api/v1/lq/red-confirmations": {"post": _op("Apply for a red-letter confirmation (红字确认单)",
                                                     "apply_confirmation", {
            201: json_answer(CREATED, "the application")}, 400, 404, 409, 413, 422, **_body(APPLICATION_BODY))},
        "/api/v1/lq/red-confirmations/{confirmation_id}": {"get": _op(
            "A red-letter confirmation", "get_confirmation", {200: json_answer(CONFIRMATION, "its current status")}, 404,
            parameters=[path_param("confirmation_id")])},
    }

