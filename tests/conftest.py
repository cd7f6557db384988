"""Hypothesis profiles: ``make test`` is derandomized, so CI replays exactly the examples a
local run tried; ``make test-slow`` explores with fresh random examples."""

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.redis_server import RedisServer
from tests.redis_server import redis_server as redis_server_of_the_session

settings.register_profile("gate", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("CRM_HYPOTHESIS_PROFILE", "gate"))


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real ``redis-server`` (persistence off) for the session, or for this xdist worker."""
    with redis_server_of_the_session() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """The Redis URL, emptied before each test."""
    import redis

    if redis_server.process is None:  # a test stopped it
        redis_server.start()
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    yield redis_server.url
