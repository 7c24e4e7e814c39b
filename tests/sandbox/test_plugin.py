"""The pytest plugin fails tests that leave violations behind."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROVOKING_TESTS = """
import httpx

async def _send_to_nowhere(sandbox):
    async with httpx.AsyncClient() as client:
        url = f"{sandbox.api_base_url}{sandbox.token}/sendMessage"
        await client.post(url, data={"chat_id": "-1", "text": "x"})

async def test_leaves_a_violation(sandbox):
    await _send_to_nowhere(sandbox)

async def test_takes_its_violation(sandbox):
    await _send_to_nowhere(sandbox)
    assert len(sandbox.take_violations()) == 1
"""


async def test_leftover_violations_fail_the_test(tmp_path: Path) -> None:
    (tmp_path / "test_provoking.py").write_text(textwrap.dedent(PROVOKING_TESTS))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pytest", "-q", "-p", "sandbox.pytest_plugin",
        "-o", "asyncio_mode=auto", "-p", "no:cacheprovider", str(tmp_path),
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate()
    text = output.decode()
    assert "2 passed, 1 error" in text, text
    assert "1 Telegram API violation(s)" in text
    assert "sendMessage(" in text and "Bad Request: chat not found" in text
