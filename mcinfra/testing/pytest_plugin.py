"""mcinfra's pytest plugin: a private mock cloud per test, fault injection, leftover checks.

Registered through the ``pytest11`` entry point, so ``pip install mcinfra`` is enough. Importing
this module costs nothing: mcinfra itself loads when a fixture is first used.

Fixtures:
- ``mcinfra_infra``: an ``Infra`` on an in-memory store, closed after the test;
- ``mock_cloud``: a :class:`~mcinfra.testing.TestCloud` on a mock region of its own, configured by
  ``@pytest.mark.mcinfra(latency=..., fail_rate=..., seed=...)``;
- ``mcinfra_clouds``: a factory, ``mcinfra_clouds(fail_rate=0.1)``, for several mock connections
  in one test (each its own region, all on the test's ``mcinfra_infra``);
- ``mcinfra_cloud``: like ``mock_cloud``, but parametrised over the connections named with
  ``--mcinfra-connection NAME`` (in the store of ``--mcinfra-store URL``) as well: the same test then
  runs against real clouds too. Off by default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mcinfra.core.infra import Infra
    from mcinfra.testing import TestCloud

MARKER = "mcinfra"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mcinfra")
    group.addoption("--mcinfra-connection", action="append", default=[], metavar="NAME",
                    help="also run tests using the mcinfra_cloud fixture against this connection (repeatable)")
    group.addoption("--mcinfra-store", default=None, metavar="URL",
                    help="the mcinfra store that holds the --mcinfra-connection connections (default: ~/.mcinfra)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(latency=0, fail_rate=0, seed=None): options of the test's mock cloud (mcinfra)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mcinfra_cloud" in metafunc.fixturenames:
        targets = ["mock", *metafunc.config.getoption("--mcinfra-connection")]
        metafunc.parametrize("mcinfra_cloud", targets, indirect=True)


def _mock_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError("@pytest.mark.mcinfra takes keyword options only (latency, fail_rate, seed)")
    return dict(marker.kwargs)


@pytest.fixture
def mcinfra_infra() -> Iterator[Infra]:
    """An ``Infra`` on a private in-memory store."""
    from mcinfra.core.infra import Infra

    with Infra("sqlite:///:memory:") as infra:
        yield infra


@pytest.fixture
def mock_cloud(mcinfra_infra: Infra, request: pytest.FixtureRequest) -> Iterator[TestCloud]:
    """A mock connection with a cloud of its own (options from ``@pytest.mark.mcinfra``)."""
    from mcinfra.testing import TestCloud

    with TestCloud.mock(mcinfra_infra, **_mock_options(request)) as cloud:
        yield cloud


@pytest.fixture
def mcinfra_clouds(mcinfra_infra: Infra) -> Iterator[Callable[..., TestCloud]]:
    """A factory of mock connections: ``mcinfra_clouds(latency=0.01)``, each on its own region."""
    from mcinfra.testing import TestCloud

    with ExitStack() as stack:
        yield lambda **options: stack.enter_context(TestCloud.mock(mcinfra_infra, **options))


@pytest.fixture
def mcinfra_cloud(request: pytest.FixtureRequest) -> Iterator[TestCloud]:
    """``mock_cloud``, or (parametrised by ``--mcinfra-connection``) a configured real connection."""
    from mcinfra.core.infra import Infra
    from mcinfra.testing import TestCloud

    target = request.param
    if target == "mock":
        with Infra("sqlite:///:memory:") as infra, TestCloud.mock(infra, **_mock_options(request)) as cloud:
            yield cloud
        return
    with Infra(request.config.getoption("--mcinfra-store")) as infra:
        cloud = TestCloud(infra, target)
        before = cloud.mapped()
        try:
            yield cloud
        finally:
            # only what the test made: the connection may map resources of its owner
            failed = cloud.destroy_new(before)
            if failed:
                pytest.fail(f"could not clean up on {target!r}: {failed}", pytrace=False)
