"""Which fault proxy a Docker run uses: real Toxiproxy only when its image is local or --pull is given."""

from __future__ import annotations

from typing import Any

import docker.errors
import pytest

from harness import images
from harness.backends.docker_stack import choose_proxy
from harness.errors import BackendError


class FakeImages:
    def __init__(self, present: set[str], pull_fails: bool = False) -> None:
        self.present = present
        self.pulled: list[tuple[str, str]] = []
        self.pull_fails = pull_fails

    def get(self, name: str) -> Any:
        if name not in self.present:
            raise docker.errors.ImageNotFound(name)
        return object()

    def pull(self, repo: str, tag: str) -> Any:
        if self.pull_fails:
            raise docker.errors.APIError("no registry")
        self.pulled.append((repo, tag))
        return object()


class FakeClient:
    def __init__(self, images: FakeImages) -> None:
        self.images = images


TOXI = "ghcr.io/shopify/toxiproxy"


def test_present_image_is_used_without_pulling() -> None:
    fake = FakeImages({TOXI})
    choice = choose_proxy(FakeClient(fake), TOXI, pull=False)
    assert (choice.kind, choice.image, fake.pulled) == ("toxiproxy", TOXI, [])


def test_missing_image_falls_back_to_the_embedded_proxy_and_never_pulls() -> None:
    fake = FakeImages(set())
    choice = choose_proxy(FakeClient(fake), TOXI, pull=False)
    assert (choice.kind, choice.image, fake.pulled) == ("embedded", images.image_name("proxy"), [])
    assert "no --pull" in choice.reason


def test_pull_fetches_one_tag_only() -> None:
    fake = FakeImages(set())
    choice = choose_proxy(FakeClient(fake), TOXI, pull=True)
    assert choice.kind == "toxiproxy" and fake.pulled == [(TOXI, "latest")]
    choose_proxy(FakeClient(fake), TOXI + ":2.9.0", pull=True)
    assert fake.pulled[-1] == (TOXI, "2.9.0")


def test_failed_pull_says_what_to_do() -> None:
    with pytest.raises(BackendError, match="leave out --pull"):
        choose_proxy(FakeClient(FakeImages(set(), pull_fails=True)), TOXI, pull=True)
