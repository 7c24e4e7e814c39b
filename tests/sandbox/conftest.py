"""Helpers for talking to the sandbox over raw HTTP, the way any Bot API client does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from sandbox import Sandbox, spec
from tests.sandbox.conformance import check_result
from tests.sandbox.helpers import Api


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def api(http: httpx.AsyncClient, sandbox: Sandbox) -> Api:
    return Api(http, sandbox.token)


@pytest.fixture(autouse=True)
def results_conform(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every successful answer in a test that uses the sandbox must match the reference."""
    if "sandbox" not in request.fixturenames:
        yield
        return
    sandbox: Sandbox = request.getfixturevalue("sandbox")
    yield
    for call in sandbox.calls:
        if call.ok and spec.resolve_method(call.method):
            check_result(call.method, call.result)
