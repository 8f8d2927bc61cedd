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

A timeout (or a cancelled run) is made real on the target as with SSH: each script opens
with a comment naming its run (``# opsconductor-run <id>``), so its powershell.exe is the
one process whose command line holds that prefix of the encoded script. After Signal
terminate, a second script in a new shell finds that process and every descendant
(Win32_Process, ParentProcessId), stops them (Stop-Process -Force) and exits 0 once none is
left. When that cannot be confirmed within `stop_timeout_s`, `OutcomeUncertain` is raised
and the target noted (pipeline/leftovers.py), so its lock is kept until it expires.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import threading
import time
import uuid
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
from pipeline.errors import OutcomeUncertain, TargetUnreachable, ToolFailed, ToolTimeout
from pipeline.leftovers import note_unconfirmed_stop

log = logging.getLogger(__name__)
_CLIXML = b"#< CLIXML"
RUN_MARK = "# opsconductor-run {run}\n"
# Stop a run's powershell.exe (found by `needle`, a prefix of its -EncodedCommand) and all its
# descendants; exit 0 once none is left (or none was found), 3 if some outlive Stop-Process.
STOP_SCRIPT = """\
$needle = '{needle}'
$all = @(Get-CimInstance Win32_Process)
$queue = New-Object System.Collections.Generic.Queue[int]
$all | Where-Object {{ $_.CommandLine -and $_.CommandLine.Contains($needle) -and $_.ProcessId -ne $PID }} |
  ForEach-Object {{ $queue.Enqueue([int]$_.ProcessId) }}
$ids = New-Object System.Collections.Generic.List[int]
while ($queue.Count) {{
  $id = $queue.Dequeue(); $ids.Add($id)
  $all | Where-Object {{ $_.ParentProcessId -eq $id }} |
    ForEach-Object {{ $queue.Enqueue([int]$_.ProcessId) }}
}}
if ($ids.Count -eq 0) {{ exit 0 }}
$ids | ForEach-Object {{ Stop-Process -Id $_ -Force -ErrorAction SilentlyContinue }}
for ($i = 0; $i -lt 30; $i++) {{
  if (-not (Get-Process -Id $ids -ErrorAction SilentlyContinue)) {{ exit 0 }}
  Start-Sleep -Milliseconds 100
}}
exit 3
"""


LOGIN_FIX = (
    "store the login with `opsconductor credentials set {name} --user USER --password-stdin --winrm` "
    "(or --tag KEY=VALUE / --default for many hosts)"
)


class LoginRefused(TargetUnreachable):
    """The host refused the login; `powershell` adds which command stores the right one."""


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


def run_needle(run: str) -> str:
    """What of the encoded command line is the same for every script of run `run`: the base64
    of the whole 3-byte groups of its opening comment."""
    head = RUN_MARK.format(run=run).encode("utf-16-le")
    return base64.b64encode(head[: len(head) - len(head) % 3]).decode("ascii")


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
            except OutcomeUncertain:
                note_unconfirmed_stop(target.name)
                raise
            except LoginRefused as err:
                raise TargetUnreachable(f"{err}: {LOGIN_FIX.format(name=target.name)}") from err
            except asyncio.CancelledError:
                stop.set()  # the thread stops the command on the target; wait for that to end
                await _settled(job, target.name)
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
        run = uuid.uuid4().hex
        shell_id = protocol.open_shell(codepage=self.config.codepage, noprofile=True)
        try:
            command_id = _start(protocol, shell_id, RUN_MARK.format(run=run) + script)
            output = _Capped(cap)
            exit_code = _receive(protocol, shell_id, command_id, output, deadline, stop)
            if exit_code is None:  # signal terminate; whether it worked is checked just below
                with contextlib.suppress(WinRMError, WinRMTransportError, requests.RequestException):
                    protocol.cleanup_command(shell_id, command_id)
            else:
                protocol.cleanup_command(shell_id, command_id)
        finally:
            with contextlib.suppress(WinRMError, requests.RequestException, AssertionError):
                protocol.close_shell(shell_id, close_session=False)
        if exit_code is None:
            if not self._stop_tree(protocol, run):
                raise OutcomeUncertain(
                    f"command did not finish within {timeout:g} s and stopping it on "
                    f"{protocol.transport.endpoint} was not confirmed: it may still be running"
                )
            raise ToolTimeout(f"command did not finish within {timeout:g} s; it was stopped")
        return CommandResult(
            exit_code=exit_code,
            stdout=output.text("stdout"),
            stderr=output.text("stderr"),
            truncated=bool(output.dropped["stdout"] or output.dropped["stderr"]),
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _stop_tree(self, protocol: Protocol, run: str) -> bool:
        """Blocking: stop run `run`'s process tree from a new shell; True once none of it is left."""
        deadline = time.perf_counter() + self.config.stop_timeout_s
        try:
            shell_id = protocol.open_shell(codepage=self.config.codepage, noprofile=True)
            try:
                command_id = _start(protocol, shell_id, STOP_SCRIPT.format(needle=run_needle(run)))
                exit_code = _receive(
                    protocol, shell_id, command_id, _Capped(4096), deadline, threading.Event()
                )
            finally:
                with contextlib.suppress(WinRMError, requests.RequestException, AssertionError):
                    protocol.close_shell(shell_id, close_session=False)
        except (WinRMError, WinRMTransportError, requests.RequestException) as err:
            log.warning("stopping run %s on %s failed: %s", run, protocol.transport.endpoint, err)
            return False
        return exit_code == 0


def _start(protocol: Protocol, shell_id: str, script: str) -> str:
    args = ["-NoProfile", "-NonInteractive", "-EncodedCommand", encode_powershell(script)]
    return str(protocol.run_command(shell_id, "powershell", args))


async def _settled(job: asyncio.Future[CommandResult], target: str) -> None:
    """Wait (through further cancellations) for a stopped job's thread; note an unconfirmed stop."""
    while not job.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait({job})
    if not job.cancelled() and isinstance(job.exception(), OutcomeUncertain):
        note_unconfirmed_stop(target)


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
        raise LoginRefused(f"login to {endpoint} was refused: {err}") from err
    except requests.Timeout as err:
        raise ToolTimeout(f"{endpoint} did not answer in time") from err
    except requests.ConnectionError as err:
        raise TargetUnreachable(f"cannot connect to {endpoint}") from err
    except (WinRMError, WinRMTransportError) as err:
        raise ToolFailed(f"WinRM error from {endpoint}: {_reason(err)}") from err


def _reason(err: Exception) -> str:
    return str(getattr(err, "reason", None) or err)
