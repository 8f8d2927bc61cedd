"""A WS-Management (WinRS) stand-in on loopback: NOT a Windows host, a test double of one.

It speaks the SOAP exchange pywinrm uses, over HTTP with basic auth: Create (a shell),
Command, Receive (base64 stdout/stderr streams, CommandState Done with an ExitCode),
Signal and Delete, answering with RelatesTo = the request's MessageID as WinRM does.
PowerShell arrives as ``powershell ... -EncodedCommand <base64 UTF-16LE>``; the stand-in
decodes it, records it, and answers from a `responder` the test provides
(script -> `Canned`). A Receive for a command marked `hang` answers with the
OperationTimeout fault (code 2150858793) that real WinRM sends while a command runs.
Any action it does not know fails the request with 400 and is recorded as unexpected.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
}
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
ACTIONS = {
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create": "Create",
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete": "Delete",
    f"{SHELL}/Command": "Command",
    f"{SHELL}/Receive": "Receive",
    f"{SHELL}/Signal": "Signal",
}


class _Fault(Exception):
    def __init__(self, envelope: str) -> None:
        self.envelope = envelope


@dataclass
class Canned:
    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0
    hang: bool = False  # never finishes: every Receive times out


@dataclass
class Recorded:
    actions: list[str] = field(default_factory=list)
    commands: list[tuple[str, str]] = field(default_factory=list)  # (command, arguments)
    scripts: list[str] = field(default_factory=list)  # decoded PowerShell
    signals: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)


def error_clixml(message: str) -> str:
    """How powershell.exe writes an error record to stderr under WinRM."""
    text = message.replace("\n", "_x000D__x000A_")
    return (
        "#< CLIXML\r\n"
        '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
        f'<S S="Error">{text}_x000D__x000A_</S></Objs>'
    )


class WsmanStandIn:
    """Serves http://127.0.0.1:<port>/wsman for one user/password."""

    def __init__(
        self, responder: Callable[[str], Canned], username: str = "ops", password: str = "s3cret!"
    ) -> None:
        self.responder = responder
        self.authorization = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.seen = Recorded()
        self.receive_delay_s = 0.05
        self._commands: dict[str, Canned] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/wsman", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != self.authorization:
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="WSMAN"'})
        root = ET.fromstring(await request.read())
        action = ACTIONS.get(root.findtext("s:Header/a:Action", "", NS))
        message_id = root.findtext("s:Header/a:MessageID", "", NS)
        if action is None:
            self.seen.unexpected.append(root.findtext("s:Header/a:Action", "", NS))
            return web.Response(status=400, text="unexpected action")
        self.seen.actions.append(action)
        try:
            body = await getattr(self, f"_{action.lower()}")(root)
        except _Fault as fault:
            return web.Response(status=500, text=fault.envelope, content_type="application/soap+xml")
        return web.Response(
            text=_envelope(message_id, body), content_type="application/soap+xml", charset="utf-8"
        )

    async def _create(self, root: ET.Element) -> str:
        shell_id = str(uuid.uuid4()).upper()
        return (
            "<x:ResourceCreated xmlns:x='http://schemas.xmlsoap.org/ws/2004/09/transfer'>"
            "<a:ReferenceParameters><w:SelectorSet>"
            f"<w:Selector Name='ShellId'>{shell_id}</w:Selector>"
            "</w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>"
            f"<rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId></rsp:Shell>"
        )

    async def _command(self, root: ET.Element) -> str:
        line = root.find("s:Body/rsp:CommandLine", NS)
        command = line.findtext("rsp:Command", "", NS) if line is not None else ""
        arguments = line.findtext("rsp:Arguments", "", NS) if line is not None else ""
        self.seen.commands.append((command, arguments))
        words = arguments.split()
        lowered = [w.lower() for w in words]
        script = ""
        if command.lower().startswith("powershell") and "-encodedcommand" in lowered:
            encoded = words[lowered.index("-encodedcommand") + 1]
            script = base64.b64decode(encoded).decode("utf-16-le")
            self.seen.scripts.append(script)
        command_id = str(uuid.uuid4()).upper()
        self._commands[command_id] = self.responder(script)
        return f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"

    async def _receive(self, root: ET.Element) -> str:
        stream = root.find("s:Body/rsp:Receive/rsp:DesiredStream", NS)
        command_id = stream.get("CommandId", "") if stream is not None else ""
        canned = self._commands[command_id]
        await asyncio.sleep(self.receive_delay_s)
        if canned.hang:
            raise _Fault(_timeout_fault())
        out = base64.b64encode(canned.stdout.encode()).decode()
        err = base64.b64encode(canned.stderr.encode()).decode()
        return (
            "<rsp:ReceiveResponse>"
            f"<rsp:Stream Name='stdout' CommandId='{command_id}'>{out}</rsp:Stream>"
            f"<rsp:Stream Name='stderr' CommandId='{command_id}'>{err}</rsp:Stream>"
            f"<rsp:Stream Name='stdout' CommandId='{command_id}' End='true'></rsp:Stream>"
            f"<rsp:Stream Name='stderr' CommandId='{command_id}' End='true'></rsp:Stream>"
            f"<rsp:CommandState CommandId='{command_id}' State='{SHELL}/CommandState/Done'>"
            f"<rsp:ExitCode>{canned.exit_code}</rsp:ExitCode></rsp:CommandState>"
            "</rsp:ReceiveResponse>"
        )

    async def _signal(self, root: ET.Element) -> str:
        signal = root.find("s:Body/rsp:Signal", NS)
        if signal is not None:
            self.seen.signals.append(signal.findtext("rsp:Code", "", NS).rsplit("/", 1)[-1])
        return "<rsp:SignalResponse/>"

    async def _delete(self, root: ET.Element) -> str:
        return ""


def _envelope(relates_to: str, body: str) -> str:
    return (
        f"<s:Envelope xmlns:s='{NS['s']}' xmlns:a='{NS['a']}' xmlns:w='{NS['w']}' xmlns:rsp='{NS['rsp']}'>"
        "<s:Header><a:Action>response</a:Action>"
        f"<a:MessageID>uuid:{uuid.uuid4()}</a:MessageID><a:RelatesTo>{relates_to}</a:RelatesTo></s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    )


def _timeout_fault() -> str:
    fault = (
        "<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode>"
        "</s:Code><s:Reason><s:Text xml:lang='en-US'>The WS-Management service cannot complete the operation "
        "within the time specified in OperationTimeout.</s:Text></s:Reason><s:Detail>"
        "<f:WSManFault xmlns:f='http://schemas.microsoft.com/wbem/wsman/1/wsmanfault' Code='2150858793' "
        "Machine='standin'><f:Message>The operation timed out.</f:Message></f:WSManFault>"
        "</s:Detail></s:Fault>"
    )
    return _envelope(f"uuid:{uuid.uuid4()}", fault)
