"""The service images: non-root, health-checked, and without the harness's heavy dependencies."""

from __future__ import annotations

from typing import Any

import pytest

from harness import images

pytestmark = pytest.mark.docker

HEAVY = ("pandas", "pyarrow", "matplotlib", "locust", "numpy", "docker")


@pytest.mark.parametrize("target", images.TARGETS)
def test_image_is_non_root_with_a_healthcheck(target: str, client: Any) -> None:
    config = client.images.get(images.image_name(target)).attrs["Config"]
    assert config["User"] == "app"
    assert config["Healthcheck"]["Test"][0] == "CMD"
    assert config["Labels"]["org.opencontainers.image.version"] == images.image_name(target).rpartition(":")[2]


def test_images_hold_only_the_service_dependencies(client: Any) -> None:
    """The three targets share one install layer; the proxy image has no VOLUME to leave behind."""
    code = ("import importlib.util, sys; found = [m for m in %r if importlib.util.find_spec(m)]; "
            "print(found); sys.exit(1 if found else 0)") % (HEAVY,)
    out = client.containers.run(images.image_name("proxy"), ["-c", code], entrypoint=["python3"], remove=True,
                                network_disabled=True)
    assert out.decode().strip() == "[]"
