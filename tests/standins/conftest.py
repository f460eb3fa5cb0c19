"""Fixtures of the stand-in tests: a named volume and started containers of the test module's
StandIn class (a _container.StandInContainer), removed afterwards."""

import uuid

import pytest

from _container import docker


@pytest.fixture(name="volume")
def volume_fixture(request):
    name = f"microops-standin-{request.module.StandIn.PRODUCT}-{uuid.uuid4().hex[:8]}"
    docker("volume", "create", name)
    yield name
    docker("volume", "rm", "-f", name, check=False)


@pytest.fixture(name="standin")
def standin_fixture(request, volume):
    containers = []

    def start(**kwargs):
        container = request.module.StandIn(volume, **kwargs)
        containers.append(container)
        return container.run()
    yield start
    for container in containers:
        container.remove()
