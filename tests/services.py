"""Real PostgreSQL and Redis for the test suite, on loopback only.

Each server comes either from the environment (``OPSCONDUCTOR_TEST_PG_URL``,
``OPSCONDUCTOR_TEST_REDIS_URL``: an existing server, used without being changed beyond
the databases created here) or is started here as a throwaway process on a free
127.0.0.1 port, in a temporary directory that is removed again when the session ends.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres``
system user (``runuser``). Every started server is also stopped at interpreter exit
(atexit) and by the next session when its owner died without cleaning up.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import redis
from sqlalchemy.engine import URL, make_url

PG_ENV = "OPSCONDUCTOR_TEST_PG_URL"
REDIS_ENV = "OPSCONDUCTOR_TEST_REDIS_URL"
WORKDIR_PREFIX = "opsconductor-test-"
OWNER_FILE = "owner.pid"
STARTUP_TIMEOUT_S = 60.0


class ServiceError(RuntimeError):
    """A test service could not be started or prepared."""


def free_port() -> int:
    """A currently unused TCP port on 127.0.0.1 (the caller retries if it is taken meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_coroutine(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run `coro` on a private event loop in a helper thread.

    Sync fixtures use this so they never create, replace or close the event loop that
    pytest-asyncio manages in the main thread.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-services") as pool:
        return pool.submit(asyncio.run, coro).result()


# --------------------------------------------------------------------------- lifetimes


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _make_workdir(kind: str, owner: str | None = None) -> Path:
    """A fresh temp dir tagged with our pid (so a later session can reap it if we die)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{kind}-"))
    (workdir / OWNER_FILE).write_text(str(os.getpid()))
    if owner is not None:
        entry = pwd.getpwnam(owner)
        for path in (workdir, workdir / OWNER_FILE):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    return workdir


def reap_orphans() -> None:
    """Stop servers and remove work dirs left behind by sessions that died (SIGKILL)."""
    for workdir in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*"):
        try:
            owner = int((workdir / OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue
        if owner == os.getpid() or _pid_alive(owner):
            continue
        if (workdir / "data" / "postmaster.pid").exists():
            with contextlib.suppress(ServiceError, OSError):
                _pg_ctl_stop(_pg_bindir(), workdir / "data")
        _kill_pidfile(workdir / "redis.pid")
        shutil.rmtree(workdir, ignore_errors=True)


def _kill_pidfile(pidfile: Path) -> None:
    with contextlib.suppress(OSError, ValueError):
        os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)


def _interrupt_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so pytest runs the fixture teardowns."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    with contextlib.suppress(ValueError):  # not in the main thread
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, handler)


class _Stopper:
    """Idempotent stop action, also registered with atexit as a backstop."""

    def __init__(self, action: Callable[[], None]) -> None:
        self._action: Callable[[], None] | None = action
        atexit.register(self)
        _interrupt_on_sigterm()

    def __call__(self) -> None:
        action, self._action = self._action, None
        if action is not None:
            atexit.unregister(self)
            action()


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bindir() -> Path:
    """The newest Debian PostgreSQL server binaries (/usr/lib/postgresql/<v>/bin), or PATH."""
    found = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()]
    if found:
        return max(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    initdb = shutil.which("initdb")
    if initdb is None:
        raise ServiceError("PostgreSQL server binaries not found: apt-get install postgresql")
    return Path(initdb).parent


def _pg_user() -> str | None:
    """As root, the system user that runs the server (initdb refuses root); else ourselves."""
    return "postgres" if os.geteuid() == 0 else None


def _run(cmd: list[str], cwd: Path, user: str | None) -> subprocess.CompletedProcess[str]:
    full = ["runuser", "-u", user, "--", *cmd] if user else cmd
    return subprocess.run(
        full, cwd=cwd, capture_output=True, text=True, timeout=STARTUP_TIMEOUT_S, check=False
    )


def _pg_ctl_stop(bindir: Path, data: Path) -> None:
    _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], data.parent, _pg_user())


def _asyncpg_kwargs(url: URL) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "host": url.host or url.query.get("host") or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "database": url.database or "postgres",
    }
    if url.password:
        kwargs["password"] = url.password
    return kwargs


async def _admin(url: URL, *statements: str) -> None:
    conn = await asyncpg.connect(**_asyncpg_kwargs(url), timeout=30)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@dataclass
class PostgresServer:
    """A PostgreSQL server the tests may create and drop databases on.

    `admin_url` names the database used for CREATE/DROP DATABASE. Databases created
    through `create_database` are dropped by `close`, which also stops an owned server.
    """

    admin_url: URL
    stop: Callable[[], None] | None = None
    databases: set[str] = field(default_factory=set)

    def create_database(self) -> str:
        """Create an empty uniquely named database; return its postgresql+asyncpg URL."""
        name = f"oc_test_{os.getpid()}_{secrets.token_hex(4)}"
        run_coroutine(_admin(self.admin_url, f'CREATE DATABASE "{name}"'))
        self.databases.add(name)
        url = self.admin_url.set(drivername="postgresql+asyncpg", database=name)
        return url.render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        """Drop a database made by `create_database`, closing any connection still open."""
        name = make_url(url).database
        if name not in self.databases:
            raise ServiceError(f"not a database of this session: {name}")
        run_coroutine(_admin(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.databases.discard(name)

    def close(self) -> None:
        try:
            for name in sorted(self.databases):
                with contextlib.suppress(Exception):
                    self.drop_database(str(self.admin_url.set(database=name)))
        finally:
            if self.stop is not None:
                self.stop()


def start_postgres() -> PostgresServer:
    """Start a throwaway PostgreSQL on a free loopback port (trust auth, fsync off)."""
    reap_orphans()
    bindir, user = _pg_bindir(), _pg_user()
    workdir = _make_workdir("pg", owner=user)
    data = workdir / "data"
    stopper = _Stopper(lambda: _remove_pg(bindir, data))
    initdb = [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
    done = _run([*initdb, "--no-sync", "-E", "UTF8", "--locale=C"], workdir, user)
    if done.returncode != 0:
        stopper()
        raise ServiceError(f"initdb failed:\n{done.stdout}\n{done.stderr}")
    for _attempt in range(5):
        port = free_port()
        if _pg_start(bindir, data, port, user):
            url = URL.create("postgresql+asyncpg", username="postgres", host="127.0.0.1", port=port)
            return PostgresServer(admin_url=url.set(database="postgres"), stop=stopper)
    log = (workdir / "server.log").read_text(errors="replace")
    stopper()
    raise ServiceError(f"PostgreSQL did not start:\n{log[-4000:]}")


def _pg_start(bindir: Path, data: Path, port: int, user: str | None) -> bool:
    options = (
        f"-p {port} -h 127.0.0.1 -k {data.parent} -c fsync=off -c synchronous_commit=off"
        " -c full_page_writes=off -c max_connections=200"
    )
    cmd = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(data.parent / "server.log")]
    done = _run([*cmd, "-w", "-t", str(int(STARTUP_TIMEOUT_S)), "-o", options, "start"], data.parent, user)
    return done.returncode == 0


def _remove_pg(bindir: Path, data: Path) -> None:
    try:
        if (data / "postmaster.pid").exists():
            _pg_ctl_stop(bindir, data)
    finally:
        shutil.rmtree(data.parent, ignore_errors=True)


def postgres_server() -> PostgresServer:
    """The server named by OPSCONDUCTOR_TEST_PG_URL, else a throwaway one."""
    external = os.environ.get(PG_ENV, "").strip()
    if not external:
        return start_postgres()
    url = make_url(external)
    return PostgresServer(admin_url=url.set(drivername="postgresql+asyncpg"))


# --------------------------------------------------------------------------- Redis


@dataclass
class RedisServer:
    """A Redis server; `url` has no database number. `stop` is set for an owned server."""

    url: str
    stop: Callable[[], None] | None = None

    def db_url(self, db: int) -> str:
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path=f"/{db}"))

    def close(self) -> None:
        if self.stop is not None:
            self.stop()


def start_redis() -> RedisServer:
    """Start a throwaway redis-server on a free loopback port, keeping nothing on disk."""
    reap_orphans()
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(exe).exists():
        raise ServiceError("redis-server not found: apt-get install redis-server")
    workdir = _make_workdir("redis")
    for _attempt in range(5):
        port = free_port()
        proc = subprocess.Popen(
            [exe, *_redis_options(port, workdir)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C reaches pytest, which then stops us in order
        )
        (workdir / "redis.pid").write_text(str(proc.pid))
        url = f"redis://127.0.0.1:{port}"
        if _wait_for_redis(url, proc):
            return RedisServer(url=url, stop=_Stopper(functools.partial(_remove_redis, proc, workdir)))
        _remove_redis(proc, None)
    log = (workdir / "redis.log").read_text(errors="replace")
    shutil.rmtree(workdir, ignore_errors=True)
    raise ServiceError(f"redis-server did not start:\n{log[-4000:]}")


def _redis_options(port: int, workdir: Path) -> list[str]:
    return [
        *("--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
        *("--dir", str(workdir), "--logfile", str(workdir / "redis.log"), "--databases", "16"),
    ]


def _wait_for_redis(url: str, proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with redis.Redis.from_url(url, socket_timeout=2) as client:
                if client.ping():
                    return True
        except redis.ConnectionError:
            time.sleep(0.02)
    return False


def _remove_redis(proc: subprocess.Popen[bytes], workdir: Path | None) -> None:
    try:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def redis_server() -> RedisServer:
    """The server named by OPSCONDUCTOR_TEST_REDIS_URL, else a throwaway one."""
    external = os.environ.get(REDIS_ENV, "").strip()
    if not external:
        return start_redis()
    parts = urlsplit(external)
    return RedisServer(url=urlunsplit(parts._replace(path="")))


CLAIM_KEY = "opsconductor:test:claimed-by"
CLAIM_TTL_S = 6 * 3600


class RedisDatabase:
    """One logical Redis database claimed for this session.

    Claiming (SET NX of a marker key) keeps concurrent test sessions that share one
    external server off each other's data; `flush` empties only the claimed database.
    Database 0 is never claimed: on a shared server it belongs to people.
    """

    def __init__(self, server: RedisServer) -> None:
        self._token = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        for db in range(15, 0, -1):
            client = redis.Redis.from_url(server.db_url(db), socket_timeout=10)
            try:
                if client.set(CLAIM_KEY, self._token, nx=True, ex=CLAIM_TTL_S):
                    self.db, self.url, self._client = db, server.db_url(db), client
                    self.flush()  # whatever a dead session left behind
                    return
            except redis.ResponseError:  # fewer databases configured
                pass
            client.close()
        raise ServiceError(f"no free logical database on {server.url} (1-15 are claimed)")

    def flush(self) -> None:
        """Empty the claimed database (keeping the claim)."""
        self._client.flushdb()
        self._client.set(CLAIM_KEY, self._token, ex=CLAIM_TTL_S)

    def release(self) -> None:
        try:
            if self._client.get(CLAIM_KEY) == self._token.encode():
                self._client.flushdb()
        finally:
            self._client.close()
