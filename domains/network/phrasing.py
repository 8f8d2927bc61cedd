"""How people ask for the network tools (read by the understanding layer from the declarations)."""

from __future__ import annotations

from pipeline.phrasing import Phrasing, Slot

PING = Phrasing(
    verbs=("ping", "send pings", "reach"),
    objects=(
        "ping", "pings", "latency", "connectivity", "icmp", "packet loss", "pong", "dropping packets",
        "dropped packets", "packet drops",
    ),
    states=(
        "reachable", "pingable", "up", "alive", "online", "responding", "responsive", "down", "offline",
        "unreachable", "contactable", "accessible", "answering", "reply", "replying", "respond", "dead",
        "dark", "gone dark", "dropped off", "off the network", "off the grid", "disconnected", "vanished",
        "disappeared",
    ),
    slots={
        "count": Slot(
            kind="number",
            leads=("-c", "count", "x"),
            follows=("times", "pings", "packets", "echoes", "requests", "echo requests", "x"),
        )
    },
    examples=("ping web-01 db-01", "is api-02 reachable?", "ping web-01 5 times"),
)  # fmt: skip

PORT_SCAN = Phrasing(
    verbs=("scan", "nmap", "portscan", "port scan", "port-scan"),
    objects=("port", "ports", "port scan"),
    states=("open", "listening", "closed", "listen"),
    slots={
        "ports": Slot(
            kind="port",
            leads=("port", "ports"),
            values={"1-65535": ("all ports", "every port", "all the ports", "all 65535 ports", "full range")},
        )
    },
    examples=("scan 22,80,443 on web-03", "is 5432 open on db-01?", "scan all ports on web-01"),
)

TRACEROUTE = Phrasing(
    verbs=("traceroute", "tracert", "tracepath", "trace", "mtr", "trace the route"),
    objects=("route", "hops", "hop", "path", "network path", "path packets take", "topology", "network map"),
    slots={"max_hops": Slot(kind="number", leads=("max_hops",), follows=("hops", "hop"))},
    examples=("traceroute fw-edge-01", "traceroute to web-03 max 15 hops"),
)

DNS_LOOKUP = Phrasing(
    untargeted="none",  # no host named: the bot's own resolver answers
    targets_after=("ask", "query", "against", "via", "using", "at", "@", "server", "nameserver"),
    verbs=("resolve", "nslookup", "dig", "lookup", "look up"),
    objects=("dns", "record", "records", "resolution", "dns record", "dns records"),
    slots={
        "name": Slot(kind="dns_name"),
        "record_type": Slot(
            values={
                "NS": (
                    "nameserver",
                    "nameservers",
                    "name server",
                    "name servers",
                    "dns server",
                    "dns servers",
                ),
                "MX": ("mail server", "mail servers", "mail exchanger", "mail exchangers"),
                "PTR": ("reverse",),
            }
        ),
    },
    examples=("dns MX example.org", "resolve grafana.example.com", "which nameservers does example.org use?"),
)

BANDWIDTH = Phrasing(
    verbs=("iperf", "iperf3", "measure bandwidth", "measure throughput", "speed test", "speedtest"),
    objects=("bandwidth", "throughput", "transfer rate", "transfer speed", "network speed", "link speed"),
    questions=("how fast", "how much bandwidth"),
    slots={
        "to": Slot(kind="asset", leads=("to", "and", "towards")),
        "duration_s": Slot(kind="duration", leads=("for", "duration"), follows=("seconds", "secs", "s")),
    },
    examples=(
        "measure bandwidth from web-01 to db-01",
        "iperf between api-01 and db-02 for 10 seconds",
        "what is the throughput from web-02 to web-03?",
    ),
)  # fmt: skip
