"""A real OpenSSH sshd testbed in a network namespace the testbed creates (root only).

Inside the namespace only `lo` is up, so 127.0.0.1-127.0.0.254 are 254 "hosts" that
one sshd serves. The process that uses the testbed enters the namespace with
`testbed.inside()` (setns on the calling thread, undone on exit), so its own sockets
reach those hosts and nothing else; servers run under `ip netns exec`.

sshd: an ed25519 host key, key auth only, UsePAM no, UseDNS no, MaxStartups and
MaxSessions raised, run under `unshare -m` with an empty ``.bashrc`` bind-mounted over
root's (the machine's shell start-up files cost ~300 ms per exec).

Also: `hang_listener(addr)` (accepts TCP, never speaks), `restartable_sshd(addr)`
(an sshd that a "reboot" kills and that comes back with a new boot id), and
`dead_network()` (a /24 whose packets are silently dropped: routed through a veth whose
peer drops them. `ip route add blackhole` would not do: Linux fails locally sent packets
to a blackhole route at once with EINVAL, so nothing would time out).

Used by tests/adapters/ssh, tests/domains/automation and bench/.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

SSHD = "/usr/sbin/sshd"
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_counter = itertools.count()

SSHD_CONFIG = """\
Port {port}
{listen}
HostKey {dir}/ssh_host_ed25519_key
PidFile {pidfile}
AuthorizedKeysFile {dir}/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
StrictModes no
MaxStartups {max_startups}
MaxSessions 100
LoginGraceTime 60
PrintMotd no
PrintLastLog no
LogLevel ERROR
Subsystem sftp internal-sftp
"""


def available() -> str | None:
    """None when the testbed can run here, else why not."""
    if os.geteuid() != 0:
        return "the sshd testbed needs root (network namespaces)"
    for tool in (SSHD, shutil.which("ip"), shutil.which("unshare"), shutil.which("ssh-keygen")):
        if not tool or not Path(tool).exists():
            return f"missing {tool or 'ip/unshare/ssh-keygen'} (apt-get install openssh-server iproute2)"
    return None


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


class SshdTestbed:
    """A namespace, keys and sshd processes; `close()` removes everything."""

    def __init__(self, workdir: Path, *, max_startups: int = 2000) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ns = f"oc-sshd-{os.getpid()}-{next(_counter)}"
        self.max_startups = max_startups
        self.client_key = self.dir / "id_ed25519"
        self.host_key = self.dir / "ssh_host_ed25519_key"
        self._procs: list[subprocess.Popen[bytes]] = []
        self._sockets: list[socket.socket] = []
        self._supervisors: list[_Supervisor] = []
        self._run(["ip", "netns", "add", self.ns])
        self._run(["ip", "-n", self.ns, "link", "set", "lo", "up"])
        self._keys()

    # ------------------------------------------------------------------ setup

    def _run(self, argv: Sequence[str]) -> None:
        subprocess.run(argv, check=True, capture_output=True)

    def _keys(self) -> None:
        for path in (self.client_key, self.host_key):
            self._run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "testbed", "-f", str(path)])
        self.dir.joinpath("authorized_keys").write_text(self.client_key.with_suffix(".pub").read_text())
        self.dir.joinpath("empty_bashrc").write_text("")
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)

    def host_public_key(self) -> str:
        """``ssh-ed25519 AAAA...`` of the host key every sshd here presents."""
        algorithm, blob = self.host_key.with_suffix(".pub").read_text().split()[:2]
        return f"{algorithm} {blob}"

    def write_known_hosts(self, path: Path, addresses: Sequence[str], port: int = 22) -> Path:
        pattern = "{}" if port == 22 else "[{}]:" + str(port)
        lines = [f"{pattern.format(a)} {self.host_public_key()}" for a in addresses]
        path.write_text("\n".join(lines) + "\n")
        return path

    def sshd_command(
        self,
        name: str,
        listen: Sequence[str] = (),
        port: int = 22,
        mounts: Sequence[tuple[Path, str]] = (),
        extra_config: str = "",
    ) -> list[str]:
        """The argv that runs one sshd (foreground) in the namespace with a clean root shell.

        `mounts` (file, over path) are bound in the sshd's own mount namespace only: e.g. an
        /etc/passwd with an extra user, seen by that sshd and its sessions and nowhere else.
        `extra_config` goes at the end of sshd_config (a ``Match`` block, say).
        """
        listen_lines = "\n".join(f"ListenAddress {a}" for a in listen) or "ListenAddress 0.0.0.0"
        config = self.dir / f"sshd_{name}.conf"
        config.write_text(
            SSHD_CONFIG.format(
                port=port,
                listen=listen_lines,
                dir=self.dir,
                pidfile=self.dir / f"sshd_{name}.pid",
                max_startups=self.max_startups,
            )
            + extra_config
        )
        mount = f"mount --bind {self.dir / 'empty_bashrc'} /root/.bashrc 2>/dev/null;"
        mount += "".join(f" mount --bind {source} {target} &&" for source, target in mounts)
        script = f"{mount} exec {SSHD} -D -e -f {config}"
        return [
            "ip",
            "netns",
            "exec",
            self.ns,
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
        ]

    def start_sshd(
        self,
        name: str = "main",
        listen: Sequence[str] = (),
        port: int = 22,
        mounts: Sequence[tuple[Path, str]] = (),
        extra_config: str = "",
    ) -> int:
        """Start an sshd (all addresses by default); return its pid once it accepts."""
        argv = self.sshd_command(name, listen, port, mounts, extra_config)
        with (self.dir / f"sshd_{name}.log").open("ab") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=log)
        self._procs.append(proc)
        self.wait_listening(listen[0] if listen else "127.0.0.1", port, proc)
        return proc.pid

    def wait_listening(self, address: str, port: int, proc: subprocess.Popen[bytes] | None = None) -> None:
        deadline = time.monotonic() + 10
        with self.inside():
            while time.monotonic() < deadline:
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"sshd exited with {proc.returncode}; see {self.dir}/sshd_*.log")
                with socket.socket() as probe:
                    probe.settimeout(0.5)
                    if probe.connect_ex((address, port)) == 0:
                        return
                time.sleep(0.02)
        raise RuntimeError(f"nothing listens on {address}:{port} in {self.ns}")

    # ------------------------------------------------------------------ special hosts

    def hang_listener(self, address: str, port: int = 22) -> None:
        """A host that accepts TCP connections and never says a word."""
        with self.inside():
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address, port))
            sock.listen(512)
        self._sockets.append(sock)

    def restartable_sshd(self, address: str, *, down_s: float = 0.5) -> RebootableHost:
        """An sshd on `address` that comes back `down_s` after being killed, with a new boot id."""
        supervisor = _Supervisor(self, address, down_s)
        self._supervisors.append(supervisor)
        supervisor.start()
        return supervisor.host

    def dead_network(self, prefix: str = "10.254.0") -> str:
        """Route ``prefix.0/24`` to a veth peer that drops everything; return the prefix."""
        ns = ["ip", "-n", self.ns]
        self._run([*ns, "link", "add", "sink0", "type", "veth", "peer", "name", "sink1"])
        self._run([*ns, "link", "set", "sink0", "up"])
        self._run([*ns, "link", "set", "sink1", "up"])
        self._run([*ns, "addr", "add", "10.253.0.1/24", "dev", "sink0"])
        self._run(
            [
                *ns,
                "neigh",
                "add",
                "10.253.0.2",
                "lladdr",
                "02:00:00:00:00:02",
                "dev",
                "sink0",
                "nud",
                "permanent",
            ]
        )
        self._run([*ns, "route", "add", f"{prefix}.0/24", "via", "10.253.0.2"])
        return prefix

    # ------------------------------------------------------------------ namespace entry

    @contextlib.contextmanager
    def inside(self) -> Iterator[None]:
        """Run the calling thread's new sockets in the namespace until the block ends."""
        with open("/proc/thread-self/ns/net", "rb") as home, open(f"/run/netns/{self.ns}", "rb") as there:
            _setns(there.fileno())
            try:
                yield
            finally:
                _setns(home.fileno())

    def close(self) -> None:
        for supervisor in self._supervisors:
            supervisor.stop()
        for sock in self._sockets:
            sock.close()
        for proc in self._procs:
            proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


class RebootableHost:
    """What a test needs to "reboot" a host: the command that does it and the boot-id probe."""

    def __init__(self, address: str, pidfile: Path, boot_id: Path) -> None:
        self.address = address
        self.pidfile = pidfile
        self.boot_id = boot_id
        self.reboot_command = f"kill $(cat {pidfile})"
        self.boot_id_command = f"cat {boot_id}"
        self.boots = 0


class _Supervisor:
    """Keeps one sshd on an address alive; every restart writes a new boot id."""

    def __init__(self, bed: SshdTestbed, address: str, down_s: float) -> None:
        self.bed = bed
        self.address = address
        self.down_s = down_s
        name = "reboot-" + address.replace(".", "-")
        self.name = name
        self.host = RebootableHost(address, bed.dir / f"sshd_{name}.pid", bed.dir / f"boot_id_{name}")
        self._stop = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._boot()
        self._thread.start()

    def _boot(self) -> None:
        self.host.boot_id.write_text(str(uuid.uuid4()) + "\n")
        self.host.boots += 1
        with (self.bed.dir / f"sshd_{self.name}.log").open("ab") as log:
            argv = self.bed.sshd_command(self.name, [self.address])
            self._proc = subprocess.Popen(argv, stdout=log, stderr=log)
        self.bed.wait_listening(self.address, 22, self._proc)

    def _loop(self) -> None:
        while not self._stop.is_set():
            assert self._proc is not None
            if self._proc.poll() is None:
                time.sleep(0.05)
                continue
            if self._stop.wait(self.down_s):
                return
            self._boot()

    def stop(self) -> None:
        self._stop.set()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=5)
        self._thread.join(timeout=5)
