"""General operations vocabulary: verbs, synonyms, well-known services and ports.

Nothing here names a particular inventory: environments, locations, types, tags
and services are taken from the inventory snapshot (`pipeline.nlu.inventory`);
this module only knows how people commonly *write* them ("prod" for production,
"dbs" for database servers, "ssh" for port 22).
"""

from __future__ import annotations


def vocab(text: str) -> frozenset[str]:
    """A vocabulary written as one whitespace-separated string."""
    return frozenset(text.split())


# Words that carry no meaning for planning (politeness, filler, addressing the bot).
FILLER = vocab(
    """
    please pls plz kindly could can would will you u me us i we just quickly quick real really hey hi
    hello yo bot opsconductor ops thanks thank thx ty cheers mate folks team guys do a an the some
    for to of my our your go ahead now asap right away help maybe possibly perhaps let lets let's
    need want wanna gonna like bit also again urgently urgent immediately already simply actually
    """
)

# Nouns for a group of hosts, several even when singular ('the api tier', 'the web farm').
GROUP_NOUNS = vocab("tier tiers fleet fleets farm farms")
HOST_NOUNS = GROUP_NOUNS | vocab(
    """
    server servers host hosts machine machines box boxes node nodes instance instances vm vms
    system systems asset assets device devices ones one gear equipment appliance appliances site sites
    """
)
# Nouns that mean "any asset" rather than "servers" (types ending in server/controller).
ANY_ASSET_NOUNS = GROUP_NOUNS | vocab(
    "host hosts asset assets device devices node nodes system systems gear equipment appliance appliances"
)
# Nouns that say the words before them name a catalog entry: 'the disk cleanup pack', 'the
# windows service restart runbook'.
CATALOG_NOUNS = vocab("pack packs runbook runbooks playbook playbooks")
QUANTIFIERS = vocab("all every each entire whole everything everyone any")
# A number followed by one of these counts per target: '10 each', '5 pings apiece', '4 per host'.
DISTRIBUTIVES = vocab("each apiece per")

PRONOUNS = vocab("it them they those these its their there both same that this him")

EXCLUSION_WORDS = ("except", "excluding", "exclude", "minus", "besides", "save", "sans")
EXCLUSION_PHRASES = (
    ("but", "not"),
    ("other", "than"),
    ("apart", "from"),
    ("aside", "from"),
    ("except", "for"),
    ("with", "the", "exception", "of"),
    ("not", "including"),
    ("and", "not"),
    ("but", "skip"),
    ("don't", "include"),
    ("dont", "include"),
    ("do", "not", "include"),
    ("leave", "out"),
    ("but", "leave"),
    ("leave",),
    ("leaving", "out"),
    ("not", "counting"),
    ("skip",),
    ("without",),
    ("but",),
    ("not",),
    ("aren't",),
    ("isn't",),
    ("arent",),
    ("isnt",),
)

RANGE_WORDS = vocab("through thru to till until upto")

ENVIRONMENT_SYNONYMS: dict[str, frozenset[str]] = {
    "production": frozenset({"production", "prod", "prd", "live", "prods"}),
    "staging": frozenset({"staging", "stage", "stg", "stag", "preprod", "pre-prod", "preproduction"}),
    "development": frozenset({"development", "dev", "devel", "develop"}),
    "test": frozenset({"test", "testing", "tst"}),
    "qa": frozenset({"qa", "quality"}),
    "uat": frozenset({"uat", "acceptance"}),
    "dr": frozenset({"dr", "disaster-recovery"}),
    "sandbox": frozenset({"sandbox", "sbx"}),
}

OS_SYNONYMS: dict[str, frozenset[str]] = {
    "windows": frozenset({"windows", "win", "microsoft", "win32", "winserver"}),
    "linux": frozenset({"linux", "unix", "ubuntu", "debian", "rhel", "centos", "redhat", "rocky", "alma"}),
    "network": frozenset({"network", "networking"}),
}

# Words that name an asset type; resolved against the inventory's actual type names.
TYPE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "db": ("db_server", "database_server", "database"),
    "dbs": ("db_server", "database_server", "database"),
    "database": ("db_server", "database_server", "database"),
    "databases": ("db_server", "database_server", "database"),
    "webserver": ("web_server",),
    "webservers": ("web_server",),
    "frontend": ("web_server",),
    "frontends": ("web_server",),
    "app": ("app_server", "application_server"),
    "apps": ("app_server", "application_server"),
    "application": ("app_server", "application_server"),
    "applications": ("app_server", "application_server"),
    "dc": ("domain_controller",),
    "dcs": ("domain_controller",),
    "fw": ("firewall",),
    "fws": ("firewall",),
    "lb": ("load_balancer",),
    "lbs": ("load_balancer",),
    "switches": ("switch",),
}

# General verbs that start a new clause after "and" / "," (with every catalog verb).
GENERAL_VERBS = vocab(
    """
    check show tell get find verify test display give probe fetch print let look see confirm make
    kill terminate pkill killall install uninstall upgrade deploy patch wipe format rm truncate shutdown
    shut power disable enable erase destroy
    """
)
# Verbs asking to be shown something: they request a read, whatever the tool.
LOOK_VERBS = vocab(
    """
    check show see get give tell display look verify test confirm probe report fetch pull find make sure
    inspect examine investigate review query monitor watch need want view list display enumerate search
    describe
    """
)
# Operations changes people ask for that a catalog may not offer: asked back, never read as
# another tool ("disable nginx" is no status check). A verb a tool declares is that tool's.
CHANGE_VERBS = vocab(
    """
    kill terminate pkill killall install uninstall upgrade deploy patch wipe format truncate chmod chown
    mount unmount umount block unblock ban flush scale resize snapshot backup restore rollback migrate
    failover promote drain cordon provision enable disable mask unmask reset clear configure apply
    erase destroy rm shutdown poweroff reload clean cleanup rotate vacuum prune trim compress archive
    rebuild reindex renew revoke rollout redeploy failback
    """
)
THEN_WORDS = vocab("then afterwards after next finally subsequently")

SERVICE_ALIASES: dict[str, str] = {
    "postgres": "postgresql",
    "pg": "postgresql",
    "psql": "postgresql",
    "postgre": "postgresql",
    "iis": "W3SVC",
    "w3svc": "W3SVC",
    "ssh": "sshd",
    "openssh": "sshd",
    "mongo": "mongod",
    "mongodb": "mongod",
    "apache": "apache2",
    "httpd": "httpd",
    "k8s": "kubelet",
    "ntds": "NTDS",
    "ad": "NTDS",
}

WELL_KNOWN_SERVICES = vocab(
    """
    nginx apache2 httpd postgresql mysql mysqld mariadb redis redis-server sshd docker containerd
    kubelet cron crond w3svc mssqlserver haproxy memcached mongod rabbitmq-server elasticsearch
    prometheus grafana grafana-server node_exporter gunicorn uwsgi php-fpm tomcat jenkins ntp ntpd
    chronyd named bind9 postfix keepalived etcd consul vault nomad traefik envoy varnish squid
    kafka zookeeper rsyslog syslog-ng journald firewalld ufw iptables winrm spooler ntds dns
    dhcp telegraf filebeat fluentd td-agent celery supervisor supervisord openvpn wireguard
    """
)
# Words that look like services but are nearly always something else in a request.
NOT_SERVICES = frozenset({"dns", "ssh", "ad"})

PORT_NAMES: dict[str, tuple[int, ...]] = {
    "ssh": (22,),
    "sftp": (22,),
    "ftp": (21,),
    "telnet": (23,),
    "smtp": (25,),
    "dns": (53,),
    "http": (80,),
    "web": (80, 443),
    "pop3": (110,),
    "ntp": (123,),
    "imap": (143,),
    "snmp": (161,),
    "ldap": (389,),
    "https": (443,),
    "tls": (443,),
    "ssl": (443,),
    "smb": (445,),
    "smtps": (465,),
    "submission": (587,),
    "ldaps": (636,),
    "imaps": (993,),
    "pop3s": (995,),
    "mssql": (1433,),
    "sqlserver": (1433,),
    "oracle": (1521,),
    "nfs": (2049,),
    "mysql": (3306,),
    "mariadb": (3306,),
    "rdp": (3389,),
    "postgres": (5432,),
    "postgresql": (5432,),
    "winrm": (5985, 5986),
    "vnc": (5900,),
    "redis": (6379,),
    "kubernetes": (6443,),
    "k8s": (6443,),
    "grafana": (3000,),
    "prometheus": (9090,),
    "elasticsearch": (9200,),
    "kafka": (9092,),
    "memcached": (11211,),
    "mongodb": (27017,),
    "mongo": (27017,),
}

# Phrases that try to steer the bot; they are treated as data and ignored.
INJECTION_PATTERNS = (
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.;\n]{0,40}?\b(?:instructions?|rules?|prompts?|"
    r"polic(?:y|ies)|guardrails?|restrictions?|approvals?|safety|everything)\b"
    r"(?:\s+(?:above|before|so far))?",
    r"\byou\s+are\s+(?:now\s+)?(?:an?\s+)?(?:admin|administrator|root|dan|unrestricted|in\s+\w+\s+mode)\b",
    r"\b(?:act|pretend|behave)\s+as\s+(?:if\s+)?[^.;,\n]{0,30}",
    r"\b(?:system|assistant|developer)\s*(?:prompt|message)?\s*:",
    r"\b(?:without|skip(?:ping)?|no(?:\s+need\s+for)?|bypass(?:ing)?|don'?t\s+(?:ask\s+for|need))\s+"
    r"(?:any\s+|the\s+|an?\s+)?(?:approvals?|confirmation|review|four[- ]eyes|asking)\b",
    r"\b(?:i\s+am|i'm)\s+(?:an?\s+|the\s+)?(?:admin|administrator|root|approver|superuser|ceo)\b",
    r"\b(?:as|with)\s+(?:admin|root|sudo)\s+(?:rights|privileges|permissions)\b",
    r"\bauto[- ]?approve(?:d)?\b",
    r"\b(?:approve|authori[sz]e|allow|grant)\s+(?:everything|all|anything|it|this|them|yourself)\b"
    r"(?:\s+(?:automatically|now|immediately))?",
    r"\bnew\s+(?:instructions?|rules?)\s*:",
    r"\b(?:admin|root|emergency|security|god)\s+(?:override|mode|access)\b\s*:?",
    r"\([^()]*\b(?:note to|silently|secretly|quietly|instructions?|assistant|system|bot|ai|ps|p\.s|btw|fyi)\b"
    r"[^()]*\)",
    r"<\s*/?\s*(?:system|assistant|admin|instructions?|prompt)[^>]*>",
    r"\b(?:it'?s|it\s+is)\s+(?:already\s+)?approved\b",
    # role claims written in the message are data: roles come from the identity provider only
    r"\b(?:my\s+)?(?:roles?|permissions?|privileges?|access|clearance|user|group|auth)\s*"
    r"(?:=|:|is|are|set\s+to)\s*['\"]?(?:admin|administrator|root|approver|superuser|sudo|elevated|full)\b['\"]?",
    r"\bi\s+(?:have|hold|got)\s+(?:the\s+|an?\s+)?(?:admin|administrator|approver|root|superuser)\s+"
    r"(?:role|rights|privileges?|access|permissions?)\b",
)

GREETINGS = vocab(
    "hi hello hey yo morning evening afternoon thanks thank thx ty cheers bye goodbye ok okay cool "
    "great nice awesome sup howdy"
)
HELP_WORDS = vocab("help usage commands command manual howto")

# Chat abbreviations, normalised before anything else reads the words.
ABBREVIATIONS: dict[str, str] = {
    "chk": "check",
    "pls": "please",
    "plz": "please",
    "svc": "service",
    "svcs": "services",
    "srv": "server",
    "srvs": "servers",
    "srvr": "server",
    "srvrs": "servers",
    "svr": "server",
    "svrs": "servers",
    "proc": "process",
    "procs": "processes",
    "stat": "status",
    "rbt": "reboot",
    "restat": "restart",
    "envs": "environments",
    "w/": "with",
    "w/o": "without",
    "u": "you",
    "r": "are",
    "twice": "2",
    "msg": "message",
    "msgs": "messages",
    "whats": "what's",
    "thrice": "3",
}

# Everyday glue words: neither a task nor an entity, but no sign of an unknown request either.
COMMON = vocab(
    """
    is are was were be been being am do does did done have has had of on in at to for from with by about
    as into over after before then and or but if when so that this these those it its they them their
    there here what which who whom whose where why how can could would should will shall may might must
    not no yes all any some every each both either more most less much many few other another same such
    only also very too up down out off again still yet now currently right its i'm it's what's that's
    there's let's we're they're isn't aren't doesn't don't can't won't okay ok tell give get see make
    """
)
