"""How people ask for the automation tools (read by the understanding layer from the declarations)."""

from __future__ import annotations

from pipeline.phrasing import Call, Counterparts, Phrasing, Slot

_TIMEOUT = Slot(
    kind="duration",
    leads=(
        "timeout", "timeout_s", "time limit", "allow", "give it", "max", "up to", "time out after",
        "timeout after", "kill it after", "cap it at", "no longer than",
    ),
)  # fmt: skip

SYSTEM_INFO = Phrasing(
    objects=(
        "facts", "specs", "stats", "statistics", "health", "resources", "resource", "vitals", "sysinfo",
        "system info", "system information", "system details", "system overview", "usage",
    ),
    states=(
        "healthy", "doing", "looking", "slow", "sluggish", "ok", "okay", "fine", "alright", "full",
        "filling up", "low", "high", "exhausted", "maxed", "maxed out", "pegged", "spiking", "running out",
        "out of", "using", "eating", "consuming", "hogging", "taking up",
    ),
    slots={
        "facts": Slot(
            values={
                "uptime": (
                    "uptime", "up-time", "boot", "booted", "last boot", "last rebooted", "how long up",
                    "how long running", "when rebooted", "up since", "running since",
                ),
                "disk": (
                    "disk", "diskspace", "disk-space", "freespace", "free space", "space", "storage", "df",
                    "filesystem", "partition", "volume", "hdd", "ssd", "how much space", "space left",
                    "how full",
                ),
                "memory": ("memory", "ram", "mem", "swap"),
                "cpu": ("cpu", "load", "processor", "cores", "cpu load"),
                "os": (
                    "os", "kernel", "distro", "distribution", "release", "operating system", "os version",
                    "kernel version", "version",
                ),
            }
        )
    },
    examples=("uptime on all staging servers", "how much disk is left on db-01?", "memory and cpu on api-02"),
)  # fmt: skip

SERVICE_STATUS = Phrasing(
    objects=("status", "service", "daemon", "unit", "state"),
    states=(
        "running", "up", "down", "alive", "dead", "active", "inactive", "stopped", "started", "failed",
        "crashed", "healthy", "working", "responding", "enabled", "happy", "dying", "flapping", "hung",
        "stuck", "back", "back up", "come back", "came back", "broken", "misbehaving",
    ),
    slots={"service": Slot(kind="service")},
    examples=("check nginx on web-01", "is redis running on cache-01?", "status of gunicorn on api-01"),
)  # fmt: skip

SERVICE_CONTROL = Phrasing(
    objects=("service", "daemon", "unit"),
    slots={
        "service": Slot(kind="service"),
        "action": Slot(
            values={
                "restart": ("bounce", "kick", "cycle", "recycle", "re-start", "reload", "restart"),
                "stop": ("halt", "shut down", "bring down", "take down", "turn off", "take offline", "stop"),
                "start": ("launch", "bring up", "start up", "turn on", "bring back", "bring online", "start"),
            }
        ),
    },
    examples=("restart nginx on web-02", "stop redis on cache-01", "start postgresql on db-stg-01"),
)
SERVICE_CONTROL_READ = Counterparts(read=Call("automation.service_status", {"service": "{service}"}))

PROCESS_LIST = Phrasing(
    objects=(
        "process",
        "processes",
        "ps",
        "pids",
        "pid",
        "top",
        "process list",
        "what's running",
        "what is running",
    ),
    # what a process does to a resource: with the consumer as the subject ('what's eating cpu', 'is
    # java hogging memory') they ask for processes; the amount ('how much memory is free') is system info
    verbs=(
        "hog",
        "eat",
        "consume",
        "use",
        "using",
        "use most",
        "using most",
        "eating up",
        "chew",
        "chew through",
        "gobble",
        "guzzle",
        "burn",
        "burn through",
        "hammer",
        "thrash",
        "max out",
        "peg",
        "saturate",
    ),
    slots={
        "match": Slot(
            kind="text",
            leads=(
                "matching",
                "match",
                "named",
                "called",
                "containing",
                "filter",
                "grep",
                "processes for",
                "filtered by",
                "named after",
            ),
            follows=("process", "processes", "hogging", "eating", "consuming", "using", "chewing"),
        )
    },
    examples=("show processes on api-01 matching gunicorn", "list processes on api-01"),
)

READ_FILE = Phrasing(
    verbs=("tail", "cat", "read", "view", "print", "head", "grab", "dump", "pull up", "show", "display"),
    questions=("what's in", "what is in", "whats in", "what does it say"),
    objects=("file", "log", "logs", "contents", "content", "config", "configuration", "log file", "lines"),
    slots={
        "path": Slot(
            kind="path",
            values={
                "/var/log/nginx/error.log": ("nginx error", "nginx errors"),
                "/var/log/nginx/access.log": ("nginx access",),
                "/var/log/syslog": ("syslog",),
                "/var/log/auth.log": ("auth log",),
                "/var/log/kern.log": ("kern log", "kernel log"),
                "/var/log/messages": ("messages log",),
                "/var/log/dmesg": ("dmesg",),
                "/var/log/postgresql/postgresql.log": ("postgresql log", "postgres log"),
                "/var/log/redis/redis-server.log": ("redis log",),
            },
        ),
        "tail_lines": Slot(
            kind="number", leads=("-n", "last", "tail", "lines"), follows=("lines", "line", "rows")
        ),
    },
    examples=("tail /var/log/syslog on web-01", "show the last 50 lines of /var/log/syslog on web-02"),
)  # fmt: skip

RUN_COMMAND = Phrasing(
    verbs=("run", "execute", "exec", "invoke", "sudo"),
    objects=("command", "cmd", "shell command", "command line"),
    slots={"command": Slot(kind="command"), "timeout_s": _TIMEOUT},
    examples=('run "df -h" on web-01', "run `uptime` on web-01 with a 30s timeout"),
)

RUN_SCRIPT = Phrasing(
    verbs=("run", "execute", "exec"),
    objects=("script", "scripts", "snippet", "one-liner", "oneliner"),
    slots={
        "language": Slot(
            values={
                "bash": ("bash", "sh", "shell"),
                "python": ("python", "python3", "py"),
                "powershell": ("powershell", "pwsh", "ps1"),
            },
            by_os={"windows": "powershell", "": "bash"},
        ),
        "script": Slot(kind="code"),
        "timeout_s": _TIMEOUT,
    },
    examples=("run bash script `uptime` on web-01",),
)

REBOOT = Phrasing(
    verbs=("reboot", "restart", "bounce", "cycle", "recycle", "powercycle", "power cycle", "power-cycle"),
    objects=("reboot",),
    slots={"wait_s": Slot(kind="duration", leads=("wait",))},
    examples=("reboot web-01",),
)
REBOOT_READ = Counterparts(read=Call("automation.system_info", {"facts": ["uptime"]}))

FETCH_FILE = Phrasing(
    verbs=("fetch", "download", "attach", "upload", "grab a copy", "send me", "send over", "pull down"),
    objects=("copy", "attachment", "download"),
    words_required=True,  # a path alone is shown (read_file); fetching is a transfer someone asks for
    slots={
        "path": Slot(kind="path"),
        "max_bytes": Slot(kind="size", leads=("max_bytes", "at most", "up to", "first", "only", "limit")),
    },
    examples=("fetch /etc/nginx/nginx.conf from web-01", "download /var/log/syslog from db-01"),
)

WRITE_FILE = Phrasing(
    verbs=("write", "overwrite", "put", "deploy", "save", "replace", "render"),
    objects=("file", "config", "contents", "content"),
    slots={
        "path": Slot(kind="path", leads=("to", "into", "as")),
        "content": Slot(kind="code", leads=("content", "contents", "containing", "with", "saying")),
        "template": Slot(kind="text", leads=("template",), follows=("template",)),
        "mode": Slot(kind="number", leads=("mode", "chmod", "permissions", "perms")),
        "owner": Slot(kind="text", leads=("owner", "owned by", "chown")),
    },
    examples=('write "max_connections = 200" to /etc/app/limits.conf on web-01',),
)

COPY_FILE = Phrasing(
    verbs=("copy", "cp", "scp", "transfer", "sync", "duplicate", "clone"),
    objects=("file", "config", "copy"),
    slots={
        "path": Slot(kind="path", leads=("copy", "file")),
        "to": Slot(kind="asset", leads=("to", "onto", "over to")),
        "to_path": Slot(kind="path", leads=("as", "into", "at")),
    },
    examples=(
        "copy /etc/nginx/nginx.conf from web-01 to web-02 as /etc/nginx/nginx.conf",
        "copy /etc/hosts from db-01 to db-02 at /etc/hosts",
    ),
)
