"""Fixtures for tests/webhooks (helpers in webhook_site.py; processes from the queue tests' harness)."""
from __future__ import annotations

from typing import Iterator

import pytest

from webhook_site import Site, harness

cluster = harness.cluster
pytest_runtest_makereport = harness.pytest_runtest_makereport


@pytest.fixture
def site(cluster: harness.Cluster) -> Iterator[Site]:
    yield Site(cluster)
