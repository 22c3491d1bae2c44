"""Real-process tests of the operator commands (pytest, standard library only). See ops_support.py."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from ops_support import BIN, Processes  # noqa: E402


@pytest.fixture
def tmp() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="atelier-ops-") as folder:
        yield Path(folder)


@pytest.fixture
def procs(tmp: Path) -> Iterator[Processes]:
    if not Path(BIN).exists():
        pytest.fail(f"{BIN} is missing: run `swift build` first")
    running = Processes(tmp)
    try:
        yield running
    finally:
        running.stop()
