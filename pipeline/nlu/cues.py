"""Cue vocabularies of the lexicon classifier: which words point at which tool.

General operations English only; inventory vocabularies live in the snapshot index.
`VOCABULARY` is every word the rules understand (typo correction aims at it).
"""

from __future__ import annotations

from pipeline.nlu.lexicon import vocab

RUN_VERBS = vocab("run execute exec invoke sudo launch")
RUN_NOUNS = vocab(
    "ping scan port ports traceroute trace dns lookup check health disk uptime status diagnostic "
    "diagnostics nslookup dig test report inventory query"
)
TOOL_NOUNS = vocab("ping scan port ports traceroute trace nslookup dig dns lookup diagnostic diagnostics")
SCRIPT_WORDS = vocab("script scripts snippet")
NOTIFY_VERBS = vocab(
    "send notify email e-mail mail post message tell inform page alert text let write announce sms"
)
RESTART_WORDS = vocab("restart restarts restarting bounce kick cycle recycle re-start reload")
START_WORDS = vocab("start starting launch")
STOP_WORDS = vocab("stop stopping halt")
REBOOT_WORDS = vocab("reboot rebooting powercycle power-cycle")
POWER_OFF = vocab("shutdown poweroff shut power turn")
DNS_WORDS = vocab("dns resolve resolves resolving resolution nslookup dig record records")
TRACE_WORDS = vocab("traceroute tracert tracepath trace mtr route hops hop")
SCAN_WORDS = vocab("scan scanning nmap port ports open listening listen closed")
READ_WORDS = vocab("grab pull fetch dump see config configuration contents") | vocab(
    "tail cat read show view print display head contents content log logs lines get"
)
PROCESS_WORDS = vocab("process processes ps procs pids pid top")
STATUS_WORDS = vocab(
    "status running run up down alive healthy active state check working ok fine started stopped dead "
    "failed crashed health enabled happy responding"
)
PING_WORDS = vocab(
    "ping pingable reachable reach up alive online responding respond responsive down offline "
    "connectivity icmp latency unreachable contactable accessible reply answering pong"
)
QUERY_WORDS = vocab(
    "list show which what where how many count find details detail info information ip address addresses "
    "inventory describe located location get display have who owns owner tell give enumerate lookup "
    "whats what's search are own owned belong belongs"
)
STRONG_QUERY_WORDS = vocab(
    "list show which where many count find details detail info information ip address addresses inventory "
    "describe located location display enumerate search own owns owner owned belong belongs environment "
    "env team role tags type site datacenter services hostname hostnames name names fqdn responsible "
    "contact about summary tagged tags labels runs installed hosted lookup number total"
)
UNSUPPORTED = vocab(
    "kill terminate pkill killall install uninstall upgrade deploy patch wipe format truncate chmod chown "
    "mount unmount umount block unblock ban flush scale resize snapshot backup restore rollback migrate "
    "failover promote drain cordon provision"
)
HEALTH_WORDS = vocab("doing looking ok okay healthy health fine alright well")
CREATE_WORDS = vocab("add register create onboard enroll")
DELETE_WORDS = vocab("delete remove decommission deregister retire unregister drop purge")
UPDATE_WORDS = vocab("set change update move rename tag retag mark modify assign")
INVENTORY_WORDS = vocab("inventory asset assets cmdb")
TEMPLATE_WORDS = vocab("template templates")
SERVICE_VERBS = RESTART_WORDS | START_WORDS | STOP_WORDS | STATUS_WORDS | frozenset({"shut", "bring"})
PORT_CHECK_WORDS = vocab("check test verify reachable open up available listening responding accessible")
UPTIME_CUES = vocab("when last since boot booted rebooted")

VOCABULARY = (
    RUN_VERBS
    | NOTIFY_VERBS
    | RESTART_WORDS
    | START_WORDS
    | STOP_WORDS
    | REBOOT_WORDS
    | DNS_WORDS
    | TRACE_WORDS
    | SCAN_WORDS
    | READ_WORDS
    | PROCESS_WORDS
    | STATUS_WORDS
    | PING_WORDS
    | QUERY_WORDS
    | vocab("uptime memory status services service production staging windows linux servers")
)


VOCABULARY = VOCABULARY | vocab(
    "path packets take go travel reverse system file files latency info information details processes "
    "matching named called containing lines last first top times count record records reachable "
    "running listening free usage used left full much long kernel version free space template templates "
    "inventory asset assets cmdb add register create delete remove update set change move tag"
)
VOCABULARY = (
    VOCABULARY
    | vocab("teams slack sms webhook email e-mail mail text")
    | vocab("auth syslog kern messages dmesg error errors access log logs file")
    | vocab("uses using consumes consuming eating hogging hog most users user customers people")
    | vocab("update upgrade enable disable mask unmask reset clear configure apply set change modify")
    | HEALTH_WORDS
    | PORT_CHECK_WORDS
    | UNSUPPORTED
    | TOOL_NOUNS
    | RUN_NOUNS
    | STRONG_QUERY_WORDS
    | CREATE_WORDS
    | DELETE_WORDS
    | UPDATE_WORDS
    | UPTIME_CUES
)

ACTION_VERBS = vocab("restart reboot start stop execute shutdown delete remove kill bounce")
READ_ONLY = frozenset(
    {
        "network.ping",
        "network.port_scan",
        "network.traceroute",
        "network.dns_lookup",
        "automation.system_info",
        "automation.service_status",
        "automation.process_list",
        "automation.read_file",
        "assets.query",
        "communication.list_templates",
    }
)
