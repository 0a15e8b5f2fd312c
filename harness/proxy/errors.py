"""Errors that carry their HTTP status, as Toxiproxy's API errors do."""

from __future__ import annotations


class ApiError(Exception):
    """An API failure: ``message`` is the exact text clients compare, ``status`` the HTTP code."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def bad_body(detail: str) -> ApiError:
    return ApiError(f"bad request body: {detail}", 400)


PROXY_NOT_FOUND = ("proxy not found", 404)
TOXIC_NOT_FOUND = ("toxic not found", 404)
PROXY_EXISTS = ("proxy already exists", 409)
TOXIC_EXISTS = ("toxic already exists", 409)
INVALID_STREAM = ("stream was invalid, can be either upstream or downstream", 400)
INVALID_TOXIC_TYPE = ("invalid toxic type", 400)


def fail(kind: tuple[str, int]) -> ApiError:
    return ApiError(kind[0], kind[1])
