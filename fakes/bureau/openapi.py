"""The OpenAPI document of the public API, written out as plain JSON Schema.

Handlers parse bodies themselves (pydantic model validation would cost more than the durable
write, and must not turn bad input into FastAPI's own error shape) and are plain Starlette
routes, so the document is built here rather than derived. Schemathesis fuzzes against it.
"""

from __future__ import annotations

from typing import Any

MONEY = {"type": "string", "pattern": r"^-?\d{1,15}\.\d{2}$", "example": "106.00"}
DECIMAL = {"type": "string", "pattern": r"^-?\d{1,15}(\.\d{1,8})?$", "example": "2"}
NAME = {"type": "string", "minLength": 1, "maxLength": 200}
REQUEST_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}
PARTY = {
    "type": "object",
    "required": ["name"],
    "properties": {"tax_id": {"type": ["string", "null"]}, "name": NAME},
}
LINE = {
    "type": "object",
    "required": ["name", "tax_code", "amount", "tax_rate", "tax_amount"],
    "properties": {
        "name": NAME,
        "tax_code": {"type": "string", "pattern": r"^\d{19}$", "example": "3040201000000000000"},
        "unit": {"type": ["string", "null"]},
        "quantity": DECIMAL,
        "unit_price": DECIMAL,
        "amount": MONEY,
        "tax_rate": {"type": "string", "example": "0.06"},
        "tax_amount": MONEY,
    },
}
ISSUE_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["external_id", "seller", "buyer", "lines", "total_amount", "total_tax", "total_with_tax"],
    "properties": {
        "request_id": REQUEST_ID,
        "external_id": {"type": "string", "minLength": 1, "maxLength": 64},
        "kind": {"type": "string", "enum": ["normal", "special"]},
        "seller": PARTY,
        "buyer": PARTY,
        "lines": {"type": "array", "minItems": 1, "maxItems": 5000, "items": LINE},
        "total_amount": MONEY,
        "total_tax": MONEY,
        "total_with_tax": MONEY,
    },
}
RECORD: dict[str, Any] = {
    "type": "object",
    "required": ["invoice_number", "issued_at", "external_id", "kind", "seller", "buyer", "lines",
                 "total_amount", "total_tax", "total_with_tax", "status"],
    "properties": {
        "invoice_number": {"type": "string", "pattern": r"^\d{20}$"},
        "issued_at": {"type": "string", "format": "date-time"},
        "request_id": {"type": ["string", "null"]},
        "external_id": {"type": "string"},
        "kind": {"type": "string", "enum": ["normal", "special"]},
        "seller": {"type": "object"},
        "buyer": {"type": "object"},
        "lines": {"type": "array", "items": {"type": "object"}},
        "total_amount": MONEY,
        "total_tax": MONEY,
        "total_with_tax": MONEY,
        "status": {"type": "string", "enum": ["issued", "reversed"]},
        "red_for": {"type": ["string", "null"]},
        "reason": {"type": "string"},
    },
}
ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "invoice_number": {"type": ["string", "null"]},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "code", "message"],
                        "properties": {"field": {"type": "string"}, "code": {"type": "string"},
                                       "message": {"type": "string"}},
                    },
                },
            },
        }
    },
}
RED_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["reason"],
    "properties": {"request_id": REQUEST_ID, "reason": {"type": "string", "enum": ["01", "02", "03", "04"]}},
}


def json_answer(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors_table(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: json_answer(ERROR, "error") for s in statuses}


ISSUE = {"requestBody": {"required": True, "content": {"application/json": {"schema": ISSUE_BODY}}}}
RED_LETTER = {"requestBody": {"required": True, "content": {"application/json": {"schema": RED_BODY}}}}
ISSUE_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: json_answer(RECORD, "issued and durably committed"),
    200: json_answer(RECORD, "replay of a known request_id (header Idempotent-Replayed: true)"),
    **errors_table(400, 401, 403, 409, 413, 422, 429, 500, 502, 503, 504),
}
RED_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: json_answer(RECORD, "the red-letter invoice"),
    200: json_answer(RECORD, "replay of a known request_id"),
    **errors_table(400, 401, 404, 409, 413, 422, 429, 500, 502, 503, 504),
}
RECORD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: json_answer(RECORD, "the invoice"),
    **errors_table(401, 404, 429, 500, 502, 503, 504),
}
LIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: json_answer({"type": "object", "required": ["invoices"],
                "properties": {"invoices": {"type": "array", "items": RECORD}}}, "matching invoices"),
    **errors_table(400, 401, 429, 500, 502, 503, 504),
}


def path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}


def _query_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}


def responses(table: dict[int | str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(status): answer for status, answer in table.items()}


def document(title: str, version: str, more_paths: dict[str, Any] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``/api/v1`` (served at ``/openapi.json``); ``more_paths`` are
    the asynchronous channel's (``openapi_lq``)."""
    number = path_param("invoice_number")
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": {
            "/api/v1/invoices": {
                "post": {"summary": "Issue a blue invoice", "operationId": "issue_invoice",
                         **ISSUE, "responses": responses(ISSUE_RESPONSES)},
                "get": {"summary": "Find invoices by external_id and/or request_id", "operationId": "find_invoices",
                        "parameters": [_query_param("external_id"), _query_param("request_id")],
                        "responses": responses(LIST_RESPONSES)},
            },
            "/api/v1/invoices/{invoice_number}": {
                "get": {"summary": "Read one invoice", "operationId": "get_invoice", "parameters": [number],
                        "responses": responses(RECORD_RESPONSES)},
            },
            "/api/v1/invoices/{invoice_number}/red-letter": {
                "post": {"summary": "Reverse an invoice (红字发票)", "operationId": "red_letter",
                         "parameters": [number], **RED_LETTER, "responses": responses(RED_RESPONSES)},
            },
            **(more_paths or {}),
        },
    }
