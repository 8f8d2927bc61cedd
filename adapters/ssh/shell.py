"""`AsyncsshShell`: the automation domain's `RemoteShell` over asyncssh.

Connections are pooled per (address, port, user) and reused across steps and requests;
at most `max_concurrency` commands run at once; every connect and every command has its
own timeout, so a slow or dead host costs only its own time. Output is capped per stream
with a visible marker, stderr is kept apart, exit codes and signals are reported.
SDK exceptions are translated here into the pipeline's error tree.

A timeout is real on the target. OpenSSH starts every command in its own session and
process group (the login shell calls setsid), and ignores the SSH "signal" request for
root logins, so closing the channel would leave the command running. Each command
therefore opens with a one-line preamble that reports its process group id on stderr
(stripped from the output). When the bot gives up on a command (its timeout, a cancelled
run, a lost connection) it kills the whole group over a second channel (SIGTERM, then
SIGKILL after `stop_grace_s`) and waits until the target confirms no live process of the
group is left. When that cannot be confirmed within `stop_timeout_s` (the host went
away), the command may still be running: `OutcomeUncertain` is raised and the target is
noted (pipeline/leftovers.py), so the executor keeps its lock until the lock expires.
A command that leaves its process group on purpose (setsid, a daemon) is not followed.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, cast

import asyncssh

from adapters.ssh.config import SshConfig
from adapters.ssh.hostkeys import HostKeyPolicy, host_pattern
from adapters.ssh.pool import ConnectionPool, PoolCounters, PoolKey
from adapters.ssh.relay import relay
from domains.automation.ports import TRUNCATION_MARKER, CommandResult, CredentialSource, HostCredential
from pipeline.contracts import AssetRef
from pipeline.errors import OutcomeUncertain, TargetUnreachable, ToolError, ToolFailed, ToolTimeout
from pipeline.leftovers import note_unconfirmed_stop

log = logging.getLogger(__name__)

_CHANNEL_ERRORS = (asyncssh.Error, OSError)
_DECODER = codecs.getincrementaldecoder("utf-8")  # a character split across two packets stays whole

PGID_MARK = b"opsconductor-pgid "
PREAMBLE = "printf 'opsconductor-pgid %s\\n' \"$$\" >&2\n"  # $$: the session leader = the group
_HEAD_LIMIT = 64 * 1024  # stderr scanned for the preamble's line (a noisy .bashrc may come first)

# Kill a process group and confirm it is gone (exit 0); exit 3 if it outlives SIGKILL. POSIX sh:
# "live" means a member that is not a zombie (read from /proc where there is one).
STOP_SCRIPT = """\
g={pgid}
live() {{
  if [ -r /proc/self/stat ]; then
    for f in /proc/[0-9]*/stat; do
      read -r s 2>/dev/null < "$f" || continue
      set -- ${{s##*")"}}
      [ "$3" = "$g" ] && [ "$1" != Z ] && return 0
    done
    return 1
  fi
  kill -s 0 -- -$g 2>/dev/null
}}
gone_within() {{
  n=0
  while live; do [ "$n" -ge "$1" ] && return 1; sleep 0.1; n=$((n + 1)); done
}}
kill -s TERM -- -$g 2>/dev/null
gone_within {term_ticks} && exit 0
kill -s KILL -- -$g 2>/dev/null
gone_within 20 && exit 0
exit 3
"""


# What to run to fix a refused connection: the operator's next command, on the same line.
UNKNOWN_HOST_KEY = (
    "{pattern} is not in {path} and host keys are checked strictly: check its key and record it "
    "with `opsconductor hosts trust {name}` (or set ssh.trust_on_first_use)"
)
CHANGED_HOST_KEY = (
    "the host key of {pattern} does not match its entry in {path}: refusing to connect (possible "
    "man-in-the-middle, or the host was reinstalled: then `opsconductor hosts forget {name}` and "
    "`opsconductor hosts trust {name}`)"
)
LOGIN_REFUSED = (
    "login as {user} on {where} was refused: store the login with `opsconductor credentials set "
    "{name} --user USER --key-file FILE` (or --tag KEY=VALUE / --default for many hosts)"
)


class _Client(asyncssh.SSHClient):
    """One per connection: notes when TCP is up and applies trust on first use."""

    def __init__(self, hostkeys: HostKeyPolicy) -> None:
        self._hostkeys = hostkeys
        self.tcp_connected = False

    def connection_made(self, conn: asyncssh.SSHClientConnection) -> None:
        self.tcp_connected = True

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        return self._hostkeys.accept_new(host, port, key)


class _CappedOutput(asyncssh.SSHClientSession[bytes]):
    """Collects stdout and stderr apart, each up to `cap` bytes; counts what it drops."""

    def __init__(self, cap: int, on_output: Callable[[str], None] | None = None) -> None:
        self.cap = cap
        self.on_output = on_output
        self._decoders = {"out": _DECODER(errors="replace"), "err": _DECODER(errors="replace")}
        self.buffers = {"out": bytearray(), "err": bytearray()}
        self.dropped = {"out": 0, "err": 0}
        self.exit_status: int | None = None
        self.exit_signal: str | None = None
        self.pgid: int | None = None  # the command's process group, from the preamble's line
        self._head: bytearray | None = bytearray()  # stderr until that line was seen
        self.done: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        stream = "err" if datatype == asyncssh.EXTENDED_DATA_STDERR else "out"
        if stream == "err" and self._head is not None:
            data = self._strip_preamble(data)
        self._keep(stream, data)
        if self.on_output is not None and data:
            text = self._decoders[stream].decode(data)
            if text:
                try:
                    self.on_output(text)
                except Exception:  # following the output is best effort; the command goes on
                    log.warning("output callback failed", exc_info=True)

    def _strip_preamble(self, data: bytes) -> bytes:
        """Take the preamble's line out of stderr (noting the group id); return what is left."""
        assert self._head is not None
        self._head.extend(data)
        head = bytes(self._head)
        start = head.find(PGID_MARK)
        end = head.find(b"\n", start) if start >= 0 else -1
        if end >= 0:
            number = head[start + len(PGID_MARK) : end]
            self.pgid = int(number) if number.isdigit() else None
            self._head = None
            return head[:start] + head[end + 1 :]
        if len(head) > _HEAD_LIMIT:
            self._head = None
            return head
        return b""

    def _keep(self, stream: str, data: bytes) -> None:
        buffer = self.buffers[stream]
        room = max(self.cap - len(buffer), 0)
        buffer.extend(data[:room])
        self.dropped[stream] += max(len(data) - room, 0)

    def exit_status_received(self, status: int) -> None:
        self.exit_status = status

    def exit_signal_received(self, signal: str, core_dumped: bool, msg: str, lang: str) -> None:
        self.exit_signal = signal

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(exc)

    @property
    def finished(self) -> bool:
        return self.exit_status is not None or self.exit_signal is not None

    def text(self, stream: str) -> str:
        if stream == "err" and self._head:  # ended before the preamble's line was complete
            self._keep("err", bytes(self._head))
            self._head = None
        text = self.buffers[stream].decode("utf-8", errors="replace")
        if self.dropped[stream]:
            text += ("" if text.endswith("\n") or not text else "\n") + TRUNCATION_MARKER.format(n=self.cap)
        return text

    def result(self, started: float) -> CommandResult:
        return CommandResult(
            exit_code=self.exit_status,
            stdout=self.text("out"),
            stderr=self.text("err"),
            truncated=bool(self.dropped["out"] or self.dropped["err"]),
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            exit_signal=self.exit_signal,
        )


@dataclass(frozen=True, slots=True)
class _Login:
    username: str
    options: asyncssh.SSHClientConnectionOptions


@dataclass(frozen=True, slots=True)
class _Run:
    """One command in flight: where it runs and the channel that carries it."""

    target: str
    key: PoolKey
    login: _Login
    conn: asyncssh.SSHClientConnection
    chan: asyncssh.SSHClientChannel[bytes]
    session: _CappedOutput


class AsyncsshShell:
    """RemoteShell over asyncssh. One instance serves the whole app; `close()` at shutdown."""

    def __init__(
        self,
        config: SshConfig,
        credentials: CredentialSource | None = None,
        *,
        hostkeys: HostKeyPolicy | None = None,
    ) -> None:
        self.config = config
        self.credentials = credentials
        self.hostkeys = hostkeys or HostKeyPolicy(
            config.known_hosts_path, trust_on_first_use=config.trust_on_first_use
        )
        self._pool = ConnectionPool(
            idle_timeout_s=config.idle_timeout_s, max_sessions=config.max_sessions_per_connection
        )
        self._limit = asyncio.Semaphore(config.max_concurrency)
        self._logins: dict[tuple[Any, ...], _Login] = {}

    @property
    def counters(self) -> PoolCounters:
        return self._pool.counters

    @property
    def open_connections(self) -> int:
        return len(self._pool)

    async def run(
        self,
        target: AssetRef,
        command: str,
        *,
        timeout_s: float | None = None,
        max_output: int | None = None,
        stdin: str | None = None,
        on_output: Callable[[str], None] | None = None,
    ) -> CommandResult:
        """Run a shell command line on `target` (see `RemoteShell.run`)."""
        timeout = timeout_s or self.config.command_timeout_s
        cap = max_output or self.config.max_output_bytes
        started = time.perf_counter()
        async with self._limit:
            login = await self._login(target)
            key = PoolKey(target.address, self.config.port, login.username)
            for attempt in (1, 2):
                async with self._pool.connection(key, lambda: self._connect(key, login, target.name)) as conn:
                    try:
                        chan, opened = await conn.create_session(
                            lambda: _CappedOutput(cap, on_output), PREAMBLE + command, encoding=None
                        )
                        session = cast(_CappedOutput, opened)
                    except _CHANNEL_ERRORS as err:  # a pooled connection that died while idle
                        self._pool.discard(key, conn)
                        if attempt == 1:
                            continue
                        raise TargetUnreachable(f"{_where(key)}: cannot open a session ({err})") from err
                    run = _Run(target.name, key, login, conn, chan, session)
                    return await self._finish(run, stdin, timeout, started)
        raise AssertionError("unreachable")  # pragma: no cover

    @contextlib.asynccontextmanager
    async def connection(self, target: AssetRef) -> AsyncIterator[asyncssh.SSHClientConnection]:
        """A pooled connection to `target` for a channel other than a command (SFTP), under the
        same concurrency limit; connect errors are translated as for `run`."""
        async with self._limit:
            key, login = await self._key(target)
            async with self._pool.connection(key, lambda: self._connect(key, login, target.name)) as conn:
                yield conn

    async def pipe(
        self, source: AssetRef, source_command: str, dest: AssetRef, dest_command: str, *, timeout_s: float
    ) -> tuple[CommandResult, CommandResult]:
        """`source_command`'s stdout fed to `dest_command` through the bot (see `ShellPipe`)."""
        async with self._limit:
            src_key, src_login = await self._key(source)
            dst_key, dst_login = await self._key(dest)
            async with (
                self._pool.connection(src_key, lambda: self._connect(src_key, src_login, source.name)) as src,
                self._pool.connection(dst_key, lambda: self._connect(dst_key, dst_login, dest.name)) as dst,
            ):
                try:
                    return await relay(src, source_command, dst, dest_command, timeout_s)
                except TargetUnreachable:
                    for key, conn in ((src_key, src), (dst_key, dst)):
                        if conn.is_closed():
                            self._pool.discard(key, conn)
                    raise

    async def _key(self, target: AssetRef) -> tuple[PoolKey, _Login]:
        login = await self._login(target)
        return PoolKey(target.address, self.config.port, login.username), login

    async def forget(self, target: AssetRef) -> None:
        self._pool.discard_address(target.address)

    async def close(self) -> None:
        await self._pool.close()

    async def _finish(self, run: _Run, stdin: str | None, timeout: float, started: float) -> CommandResult:
        session = run.session
        try:
            if stdin is not None:
                run.chan.write(stdin.encode())
                run.chan.write_eof()
            async with asyncio.timeout(timeout):
                lost = await session.done
        except TimeoutError as err:
            if not await _despite_cancellation(self._stop(run)):
                raise OutcomeUncertain(
                    f"command did not finish within {timeout:g} s and stopping it on "
                    f"{_where(run.key)} was not confirmed: it may still be running"
                ) from err
            raise ToolTimeout(f"command did not finish within {timeout:g} s; it was stopped") from err
        except asyncio.CancelledError:  # the run was cancelled: stop the command before going
            await _despite_cancellation(self._stop(run))
            raise
        except BaseException:
            _close(run.chan)
            raise
        if not session.finished:
            return await self._lost(run, lost)
        return session.result(started)

    async def _lost(self, run: _Run, lost: Exception | None) -> CommandResult:
        """The connection died while the command ran: stop it over a new one, or say it may run on."""
        self._pool.discard(run.key, run.conn)
        why = f" ({lost})" if lost else ""
        where = _where(run.key)
        if not await _despite_cancellation(self._stop(run)):
            raise OutcomeUncertain(
                f"connection to {where} was lost while the command ran{why} and it could not be "
                "stopped there: it may still be running"
            )
        raise TargetUnreachable(
            f"connection to {where} was lost while the command ran{why}; it was stopped there, "
            "its outcome is unknown"
        )

    async def _stop(self, run: _Run) -> bool:
        """Kill the command's process group; True once the target confirms none of it is left.

        Over a second channel of the same connection, or a new one when it died. False (and
        the target noted as uncertain) when the group id is unknown (the connection died before
        the preamble's line came through) or the host did not answer within `stop_timeout_s`
        (plus `connect_timeout_s` when a new connection is needed).
        """
        confirmed = False
        budget = self.config.stop_timeout_s
        if run.conn.is_closed():  # a new connection first
            budget += self.config.connect_timeout_s
        try:
            if run.session.pgid is not None:
                async with asyncio.timeout(budget):
                    confirmed = await self._kill_group(run, run.session.pgid)
        except (TimeoutError, ToolError, *_CHANNEL_ERRORS) as err:
            log.warning("stopping process group %s on %s failed: %s", run.session.pgid, _where(run.key), err)
        finally:
            _close(run.chan)
        if not confirmed:
            note_unconfirmed_stop(run.target)
        return confirmed

    async def _kill_group(self, run: _Run, pgid: int) -> bool:
        script = STOP_SCRIPT.format(pgid=pgid, term_ticks=max(round(self.config.stop_grace_s * 10), 1))
        if run.conn.is_closed():
            connect = functools.partial(self._connect, run.key, run.login, run.target)
            async with self._pool.connection(run.key, connect) as conn:
                result = await conn.run(script, check=False)
        else:
            result = await run.conn.run(script, check=False)
        return result.exit_status == 0

    async def _login(self, target: AssetRef) -> _Login:
        credential = await self.credentials.get(target) if self.credentials else None
        credential = credential or HostCredential()
        cache_key = (
            credential.username,
            _secret(credential.password),
            _secret(credential.private_key),
            _secret(credential.passphrase),
        )
        login = self._logins.get(cache_key)
        if login is None:
            login = self._logins[cache_key] = self._build_login(credential)
        return login

    def _build_login(self, credential: HostCredential) -> _Login:
        username = credential.username or self.config.username
        auth: dict[str, Any] = {}
        if credential.private_key is not None:
            key = asyncssh.import_private_key(
                credential.private_key.get_secret_value(), _secret(credential.passphrase)
            )
            auth["client_keys"] = [key]
        elif credential.password is not None:
            auth["client_keys"] = None
        elif self.config.client_keys:
            auth["client_keys"] = [_read_key(path) for path in self.config.client_keys]
        else:  # never the keys of whoever runs the process (~/.ssh/id_*): the service's own only
            auth["client_keys"] = None
        if credential.password is not None:
            auth["password"] = credential.password.get_secret_value()
        options = asyncssh.SSHClientConnectionOptions(
            username=username,
            known_hosts=self.hostkeys,
            kex_algs=self.config.kex_algs,
            keepalive_interval=self.config.keepalive_interval_s,
            login_timeout=self.config.connect_timeout_s,
            gss_host=None,
            x509_trusted_certs=None,
            agent_path=None,  # never the agent of whoever runs the process
            **auth,
            **self.config.extra,
        )
        return _Login(username, options)

    async def _connect(self, key: PoolKey, login: _Login, name: str) -> asyncssh.SSHClientConnection:
        client = _Client(self.hostkeys)
        timeout = self.config.connect_timeout_s
        try:
            async with asyncio.timeout(timeout):
                conn, _ = await asyncssh.create_connection(
                    lambda: client, key.address, key.port, options=login.options, config=None
                )
        except TimeoutError as err:
            if client.tcp_connected:
                raise ToolTimeout(
                    f"{_where(key)} accepted the connection but SSH did not answer within {timeout:g} s"
                ) from err
            raise TargetUnreachable(f"no answer from {_where(key)} within {timeout:g} s") from err
        except asyncssh.HostKeyNotVerifiable as err:
            raise TargetUnreachable(self._host_key_problem(key, name)) from err
        except asyncssh.PermissionDenied as err:
            refused = LOGIN_REFUSED.format(user=key.username, where=_where(key), name=name)
            raise TargetUnreachable(refused) from err
        except asyncssh.Error as err:
            raise TargetUnreachable(f"SSH to {_where(key)} failed: {err.reason}") from err
        except ConnectionRefusedError as err:
            raise TargetUnreachable(
                f"{_where(key)} refused the connection (no SSH server listening)"
            ) from err
        except OSError as err:
            raise TargetUnreachable(f"cannot connect to {_where(key)}: {err.strerror or err}") from err
        return conn

    def _host_key_problem(self, key: PoolKey, name: str) -> str:
        pattern = host_pattern(key.address, key.port)
        known = CHANGED_HOST_KEY if self.hostkeys.has_entry(key.address, key.port) else UNKNOWN_HOST_KEY
        return known.format(pattern=pattern, path=self.hostkeys.path, name=name)


def _where(key: PoolKey) -> str:
    return key.address if key.port == 22 else f"{key.address}:{key.port}"


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def _close(chan: asyncssh.SSHClientChannel[bytes]) -> None:
    with contextlib.suppress(*_CHANNEL_ERRORS):
        chan.close()


async def _despite_cancellation(stop: Coroutine[Any, Any, bool]) -> bool:
    """Await `stop` to its end (it is bounded by its own timeout) even if cancelled meanwhile;
    then re-raise the cancellation, if there was one."""
    task = asyncio.ensure_future(stop)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return task.result()


def _read_key(path: str) -> asyncssh.SSHKey:
    """A key file of ssh.client_keys; a missing or unreadable one is one clear line."""
    try:
        return asyncssh.read_private_key(path)
    except (OSError, asyncssh.KeyImportError) as err:
        why = getattr(err, "strerror", None) or str(err)
        raise ToolFailed(
            f"ssh.client_keys: cannot read the key {path} ({why}); fix the setting, or store a "
            "login with `opsconductor credentials set HOST --user USER --key-file FILE`"
        ) from err
