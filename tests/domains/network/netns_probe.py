"""Runs one network probe inside a test's network namespace and prints the result as JSON.

Invoked by conftest.run_in_netns as `python netns_probe.py '<json command>'`; the
command names a tool ("ping", "port_scan", "traceroute", "sweep") and its inputs.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from domains.network.config import NetworkConfig
from domains.network.icmp import IcmpProbe
from domains.network.tools import (
    PingArgs,
    PortScanArgs,
    TracerouteArgs,
    ping,
    port_scan,
    traceroute,
)
from pipeline.contracts import AssetRef, ToolOutput
from pipeline.errors import ToolError
from pipeline.registry import ToolContext


async def call(tool: Any, ctx: ToolContext, address: str, args: Any) -> dict[str, Any]:
    try:
        output: ToolOutput = await tool(ctx, AssetRef.raw(address), args)
    except ToolError as err:
        data = err.output.model_dump() if err.output is not None else None
        return {"error": type(err).__name__, "message": str(err), "output": data}
    return {"output": output.model_dump()}


async def main(command: dict[str, Any]) -> Any:
    config = NetworkConfig(**command.get("config", {}))
    services: dict[type[Any], Any] = {NetworkConfig: config}
    async with IcmpProbe(privileged=config.icmp_privileged) as probe:
        if command.get("shared_probe", True):
            services[IcmpProbe] = probe
        ctx = ToolContext("exec-netns", "step-1", services)
        kind = command["tool"]
        if kind == "ping":
            args = PingArgs(count=command.get("count", 2))
            return await call(ping, ctx, command["address"], args)
        if kind == "sweep":
            args = PingArgs(count=command.get("count", 1))
            return await asyncio.gather(*(call(ping, ctx, a, args) for a in command["addresses"]))
        if kind == "port_scan":
            return await call(port_scan, ctx, command["address"], PortScanArgs(ports=command["ports"]))
        if kind == "traceroute":
            hops = TracerouteArgs(max_hops=command.get("max_hops", 4))
            return await call(traceroute, ctx, command["address"], hops)
    raise SystemExit(f"unknown tool {kind}")


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))))
