"""`PywinrmRemote`: the automation domain's `WindowsRemote` over pywinrm, in a thread pool.

pywinrm is blocking, so every exchange runs in this adapter's own thread pool (it never
starves the event loop's default executor). Why pywinrm rather than pypsrp: the tools
need PowerShell text in and JSON text out, which the WinRS exchange (create shell,
command, receive, signal, delete) carries directly; it is small enough to reproduce
faithfully in a loopback stand-in for tests, where PSRP's runspace fragments and CLIXML
serialisation are not. pypsrp would pay off for object pipelines and large transfers.

The exchange for one script: Create shell -> Command ``powershell -EncodedCommand
<base64 UTF-16LE>`` -> Receive until Done (each Receive waits at most the operation
timeout; the command's own deadline is checked between them) -> Signal terminate ->
Delete shell. The HTTP session is kept per (endpoint, user) and reused.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
)
from winrm.protocol import Protocol

from adapters.winrm.config import WinrmConfig
from domains.automation.ports import TRUNCATION_MARKER, CommandResult, CredentialSource
from pipeline.contracts import AssetRef
from pipeline.errors import TargetUnreachable, ToolFailed, ToolTimeout

_CLIXML = b"#< CLIXML"


@dataclass
class _Session:
    protocol: Protocol
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Capped:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = {"stdout": bytearray(), "stderr": bytearray()}
        self.dropped = {"stdout": 0, "stderr": 0}

    def add(self, stream: str, chunk: bytes) -> None:
        buffer = self.data[stream]
        room = max(self.cap - len(buffer), 0)
        buffer.extend(chunk[:room])
        self.dropped[stream] += max(len(chunk) - room, 0)

    def text(self, stream: str) -> str:
        raw = bytes(self.data[stream])
        text = (clean_clixml(raw) if stream == "stderr" else raw).decode("utf-8", errors="replace")
        if self.dropped[stream]:
            text += ("" if text.endswith("\n") or not text else "\n") + TRUNCATION_MARKER.format(n=self.cap)
        return text


def clean_clixml(raw: bytes) -> bytes:
    """PowerShell's CLIXML error stream as plain text (the <S S="Error"> lines)."""
    if not raw.startswith(_CLIXML):
        return raw
    body = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return raw
    lines = [
        (node.text or "") for node in root.iter() if node.tag.endswith("}S") and node.get("S") == "Error"
    ]
    text = "".join(lines).replace("_x000D__x000A_", "\n").replace("_x000A_", "\n")
    return text.strip().encode() + b"\n" if text.strip() else b""


def encode_powershell(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode("ascii")


class PywinrmRemote:
    """WindowsRemote over pywinrm. One instance serves the whole app; `close()` at shutdown."""

    def __init__(self, config: WinrmConfig, credentials: CredentialSource | None = None) -> None:
        self.config = config
        self.credentials = credentials
        self._threads = ThreadPoolExecutor(max_workers=config.max_concurrency, thread_name_prefix="winrm")
        self._limit = asyncio.Semaphore(config.max_concurrency)
        self._sessions: dict[tuple[str, str], _Session] = {}

    async def powershell(
        self,
        target: AssetRef,
        script: str,
        *,
        timeout_s: float | None = None,
        max_output: int | None = None,
    ) -> CommandResult:
        """Run `script` with ``powershell -EncodedCommand`` (see `WindowsRemote.powershell`)."""
        timeout = timeout_s or self.config.command_timeout_s
        cap = max_output or self.config.max_output_bytes
        async with self._limit:
            session = await self._session(target)
            stop = threading.Event()
            loop = asyncio.get_running_loop()
            job = loop.run_in_executor(self._threads, self._run, session, script, timeout, cap, stop)
            try:
                return await asyncio.shield(job)
            except asyncio.CancelledError:
                stop.set()  # the thread signals the command to terminate and deletes the shell
                raise

    async def close(self) -> None:
        sessions = list(self._sessions.values())
        self._sessions.clear()
        for session in sessions:
            with contextlib.suppress(Exception):
                session.protocol.transport.close_session()
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def _session(self, target: AssetRef) -> _Session:
        credential = await self.credentials.get(target) if self.credentials else None
        username = (credential.username if credential else None) or self.config.username
        secret = (credential.password if credential else None) or self.config.password
        endpoint = self.config.endpoint(target.address)
        key = (endpoint, username)
        session = self._sessions.get(key)
        if session is None:
            await self._preflight(target.address)
            protocol = Protocol(
                endpoint,
                transport=self.config.transport,
                username=username,
                password=secret.get_secret_value() if secret else None,
                server_cert_validation=self.config.server_cert_validation,
                operation_timeout_sec=self.config.operation_timeout_s,
                read_timeout_sec=self.config.operation_timeout_s + 10,
                proxy=self.config.proxy,
                ca_trust_path=self.config.ca_trust_path,  # type: ignore[arg-type]  # None is documented
            )
            session = self._sessions.setdefault(key, _Session(protocol))
        return session

    async def _preflight(self, address: str) -> None:
        """A TCP connect under the connect timeout, so dead hosts fail fast and clearly."""
        where = f"{address}:{self.config.port}"
        try:
            async with asyncio.timeout(self.config.connect_timeout_s):
                _, writer = await asyncio.open_connection(address, self.config.port)
        except TimeoutError as err:
            raise TargetUnreachable(
                f"no answer from {where} within {self.config.connect_timeout_s:g} s"
            ) from err
        except ConnectionRefusedError as err:
            raise TargetUnreachable(f"{where} refused the connection (WinRM not listening)") from err
        except OSError as err:
            raise TargetUnreachable(f"cannot connect to {where}: {err.strerror or err}") from err
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    def _run(
        self, session: _Session, script: str, timeout: float, cap: int, stop: threading.Event
    ) -> CommandResult:
        """Blocking: one script through the WinRS exchange, in a pool thread."""
        started = time.perf_counter()
        with session.lock, _translated(session.protocol.transport.endpoint):
            return self._exchange(session.protocol, script, started + timeout, timeout, cap, stop, started)

    def _exchange(
        self,
        protocol: Protocol,
        script: str,
        deadline: float,
        timeout: float,
        cap: int,
        stop: threading.Event,
        started: float,
    ) -> CommandResult:
        shell_id = protocol.open_shell(codepage=self.config.codepage, noprofile=True)
        try:
            args = ["-NoProfile", "-NonInteractive", "-EncodedCommand", encode_powershell(script)]
            command_id = protocol.run_command(shell_id, "powershell", args)
            output = _Capped(cap)
            exit_code = _receive(protocol, shell_id, command_id, output, deadline, stop)
            protocol.cleanup_command(shell_id, command_id)
        finally:
            with contextlib.suppress(WinRMError, requests.RequestException, AssertionError):
                protocol.close_shell(shell_id, close_session=False)
        if exit_code is None:
            raise ToolTimeout(f"command did not finish within {timeout:g} s")
        return CommandResult(
            exit_code=exit_code,
            stdout=output.text("stdout"),
            stderr=output.text("stderr"),
            truncated=bool(output.dropped["stdout"] or output.dropped["stderr"]),
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )


def _receive(
    protocol: Protocol,
    shell_id: str,
    command_id: str,
    output: _Capped,
    deadline: float,
    stop: threading.Event,
) -> int | None:
    """Receive until Done (the exit code) or until the deadline / a stop request (None)."""
    while time.perf_counter() < deadline and not stop.is_set():
        try:
            stdout, stderr, exit_code, done = protocol.get_command_output_raw(shell_id, command_id)
        except WinRMOperationTimeoutError:
            continue  # nothing new within the operation timeout: ask again
        output.add("stdout", stdout)
        output.add("stderr", stderr)
        if done:
            return int(exit_code)
    return None


@contextlib.contextmanager
def _translated(endpoint: str) -> Any:
    """pywinrm/requests exceptions -> the pipeline's error tree."""
    try:
        yield
    except InvalidCredentialsError as err:
        raise TargetUnreachable(f"login to {endpoint} was refused: {err}") from err
    except requests.Timeout as err:
        raise ToolTimeout(f"{endpoint} did not answer in time") from err
    except requests.ConnectionError as err:
        raise TargetUnreachable(f"cannot connect to {endpoint}") from err
    except (WinRMError, WinRMTransportError) as err:
        raise ToolFailed(f"WinRM error from {endpoint}: {_reason(err)}") from err


def _reason(err: Exception) -> str:
    return str(getattr(err, "reason", None) or err)
