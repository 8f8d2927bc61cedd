"""parallel-ssh in its own process (it brings gevent, which must not share the bot's event loop).

Usage: python -m bench.pssh_worker HOST[,HOST...] KEYFILE  -> prints {"seconds": s, "failed": n}
"""

from __future__ import annotations

import json
import sys
import time

from pssh.clients import ParallelSSHClient


def main() -> None:
    hosts, key = sys.argv[1].split(","), sys.argv[2]
    client = ParallelSSHClient(hosts, user="root", pkey=key, pool_size=len(hosts), timeout=30, num_retries=1)
    started = time.perf_counter()
    output = client.run_command("true", stop_on_errors=False)
    client.join(output)
    seconds = time.perf_counter() - started
    failed = sum(1 for host in output if host.exception is not None or host.exit_code != 0)
    print(json.dumps({"seconds": seconds, "failed": failed}))


if __name__ == "__main__":
    main()
