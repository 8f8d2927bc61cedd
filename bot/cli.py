"""The `opsconductor` command line.

Exit codes (README "Exit codes"): 0 done (including answers, clarifications and approval
prompts), 1 an error (database, dependency, bad file, settings), 2 usage, 3 ran but some step
failed on some target, 4 refused by policy, 5 the decision came too late: the plan was already
decided the other way (approving a rejected plan, rejecting an approved one) or its approval expired,
or an undo found the change not finished, already undone, changed since or past its window.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
from pydantic import ValidationError
from rich.console import Console

from bot.settings import Settings
from pipeline.contracts import ApprovalPrompt, Decision, Response
from pipeline.errors import OpsError
from pipeline.messages import counted

P = ParamSpec("P")
R = TypeVar("R")
EXIT_ERROR, EXIT_USAGE, EXIT_STEPS_FAILED, EXIT_REFUSED, EXIT_CLOSED = 1, 2, 3, 4, 5
err_console = Console(stderr=True, highlight=False)


def fail(message: str, code: int = EXIT_ERROR) -> None:
    err_console.print(f"error: {message}", style="red", markup=False, highlight=False, soft_wrap=True)
    sys.exit(code)


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Every expected failure becomes one clear line on stderr and a non-zero exit code."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except OpsError as err:
            fail(str(err) or type(err).__name__)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            fail(f"settings: {where + ': ' if where else ''}{first['msg'].removeprefix('Value error, ')}")
        except ValueError as err:
            fail(str(err))
        except OSError as err:  # a file the bot needs: one line naming it, never a traceback
            fail(f"{err.filename}: {err.strerror}" if err.filename else str(err))
        raise AssertionError("unreachable")

    return wrapper


def run(coro: Awaitable[R]) -> R:
    return asyncio.run(coro)  # type: ignore[arg-type]


def load_settings(ctx: click.Context) -> Settings:
    config = ctx.obj.get("config") if ctx.obj else None
    return Settings(config=config) if config else Settings()


def exit_code_for(response: Response, approve: bool | None = None) -> int:
    """The exit code for a reply; `approve`: the decision this reply answers, if any."""
    if isinstance(response, ApprovalPrompt):
        return 0
    if response.closed is not None and approve is not None:
        applied = response.closed == "approved" if approve else response.closed != "approved"
        return 0 if applied else EXIT_CLOSED
    if response.result is not None and response.result.status == "failed":
        return EXIT_STEPS_FAILED
    if response.outcome == "refused" and response.conflict:  # the state refused it, not the policy
        return EXIT_CLOSED
    return {"refused": EXIT_REFUSED, "error": EXIT_ERROR}.get(response.outcome, 0)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="opsconductor", prog_name="opsconductor", message="%(prog)s %(version)s")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="YAML or TOML settings file.")
@click.pass_context
def cli(ctx: click.Context, config: Path | None) -> None:
    """OpsConductor: ChatOps for IT operations."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


@cli.command()
def version() -> None:
    """Print the version."""
    from importlib.metadata import version as dist_version

    click.echo(f"opsconductor {dist_version('opsconductor')}")


@cli.command()
@click.pass_context
@one_line_errors
def chat(ctx: click.Context) -> None:
    """Talk to the bot in this terminal."""
    from bot.console import chat_session

    sys.exit(run(chat_session(load_settings(ctx))))


@cli.command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print the structured result.")
@click.option("--check", is_flag=True, help="Check mode: read-only probes of what the change would do.")
@click.pass_context
@one_line_errors
def ask(ctx: click.Context, text: str, as_json: bool, check: bool) -> None:
    """Ask once and print the reply (TEXT '-' reads it from stdin)."""
    from bot.console import ask_once

    if text == "-":
        raw = sys.stdin.buffer.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            fail(f"stdin is not valid UTF-8 (byte {err.start})", EXIT_USAGE)
    response = run(ask_once(load_settings(ctx), text, as_json=as_json, check=check))
    sys.exit(exit_code_for(response))


@cli.command()
@click.argument("execution_id")
@click.option("--reject", is_flag=True, help="Reject instead of approving.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@one_line_errors
def approve(ctx: click.Context, execution_id: str, reject: bool, as_json: bool) -> None:
    """Approve (or reject) a pending plan as the local user."""
    from bot.console import decide_once

    decision_args: dict[str, Any] = {"execution_id": execution_id, "approve": not reject}
    response = run(decide_once(load_settings(ctx), decision_args, as_json=as_json))
    sys.exit(exit_code_for(response, approve=not reject))


@cli.command()
@click.argument("execution_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@one_line_errors
def undo(ctx: click.Context, execution_id: str, as_json: bool) -> None:
    """Plan the undo of a finished change as the local user (it then needs approval)."""
    _act_on(ctx, execution_id, "undo", as_json)


@cli.command()
@click.argument("execution_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@one_line_errors
def cancel(ctx: click.Context, execution_id: str, as_json: bool) -> None:
    """Cancel a running execution as the local user (its requester or an approver): its commands
    are stopped on the targets, later steps do not start."""
    _act_on(ctx, execution_id, "cancel", as_json)


def _act_on(ctx: click.Context, execution_id: str, action: str, as_json: bool) -> None:
    from bot.console import decide_once

    decision_args: dict[str, Any] = {"execution_id": execution_id, "approve": False, "action": action}
    response = run(decide_once(load_settings(ctx), decision_args, as_json=as_json))
    sys.exit(exit_code_for(response))


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_context
@one_line_errors
def db_upgrade(ctx: click.Context) -> None:
    """Apply all migrations to the configured database."""
    from bot.app import prepare_database

    async def go() -> None:
        engine = await prepare_database(load_settings(ctx), migrate=True)
        await engine.dispose()

    run(go())
    click.echo("database is at the latest revision")


@cli.group()
def assets() -> None:
    """The asset inventory."""


@assets.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@one_line_errors
def assets_import(ctx: click.Context, file: Path) -> None:
    """Import assets from a YAML or CSV inventory file (all or nothing)."""
    from bot.console import import_assets

    count = run(import_assets(load_settings(ctx), file))
    click.echo(f"imported {counted(count, 'asset')} from {file}")


@cli.group()
def audit() -> None:
    """The tamper-evident audit trail."""


@audit.command("verify")
@click.option(
    "--head",
    "heads",
    multiple=True,
    metavar="FILE|SEQ:HASH",
    help="An exported head (from `audit head`), or a file of them (a remote log); repeatable.",
)
@click.pass_context
@one_line_errors
def audit_verify(ctx: click.Context, heads: tuple[str, ...]) -> None:
    """Check the audit chain (keyed hashes, links, the head file and every --head); exit 1 when a
    record was altered, inserted or deleted, or the chain is shorter than a known head."""
    from bot.audit_trail import verify_audit

    ok, line = run(verify_audit(load_settings(ctx), heads))
    click.echo(line)
    sys.exit(0 if ok else EXIT_ERROR)


@audit.command("head")
@click.pass_context
@one_line_errors
def audit_head(ctx: click.Context) -> None:
    """Print the chain's head as SEQ:HASH (after verifying it) to keep outside the database,
    e.g. from cron: `opsconductor audit head | logger -t opsconductor-audit`."""
    from bot.audit_trail import export_head

    click.echo(run(export_head(load_settings(ctx))))


@audit.command("init-key")
@click.pass_context
@one_line_errors
def audit_init_key(ctx: click.Context) -> None:
    """Start keyed hashes on a chain written before them (the old records stay verifiable)."""
    from bot.audit_trail import init_audit_key

    click.echo(run(init_audit_key(load_settings(ctx))))


@cli.group()
def schedules() -> None:
    """Requests that run again on a cron expression or an interval (run by `serve` replicas)."""


@schedules.command("add")
@click.argument("text")
@click.option("--every", help="Interval: 30s, 5m, 2h, 1d.")
@click.option("--cron", help="Five-field cron expression, UTC (e.g. '0 7 * * *').")
@click.option(
    "--post", "post", default="console", show_default=True, help="slack:CHANNEL, teams:ID or console."
)
@click.option(
    "--always", is_flag=True, help="Post after every run (default: only when the result changes state)."
)
@click.option("--name", default="", help="A short name (default: the request).")
@click.pass_context
@one_line_errors
def schedules_add(
    ctx: click.Context, text: str, every: str | None, cron: str | None, post: str, always: bool, name: str
) -> None:
    """Schedule TEXT (any read-only request; changes only where the policy allows, after one approval)."""
    from bot.scheduling import add_from_console
    from pipeline.schedules import Cadence, Destination, parse_every

    if (every is None) == (cron is None):
        fail("give either --every or --cron", EXIT_USAGE)
    cadence = Cadence(cron=cron, every_s=parse_every(every) if every else None)
    destination = Destination.parse(post)
    reply = run(
        add_from_console(
            load_settings(ctx), text, cadence, destination, "always" if always else "change", name
        )
    )
    click.echo(reply.summary)
    sys.exit(exit_code_for(reply))


@schedules.command("list")
@click.pass_context
@one_line_errors
def schedules_list(ctx: click.Context) -> None:
    """Every schedule: number, id, state, cadence, next and last run, destination."""
    from bot.scheduling import list_schedules, schedule_line

    found = run(list_schedules(load_settings(ctx)))
    for schedule in found:
        click.echo(schedule_line(schedule))
    if not found:
        click.echo("no schedules")


def _schedule_change(name: str, to: str, doc: str) -> None:
    @schedules.command(name, help=doc)
    @click.argument("schedule_id", metavar="NUMBER|ID")
    @click.pass_context
    @one_line_errors
    def command(ctx: click.Context, schedule_id: str) -> None:
        from bot.scheduling import change_from_console

        reply = run(change_from_console(load_settings(ctx), schedule_id, to))
        click.echo(reply.summary)
        sys.exit(exit_code_for(reply))


_schedule_change("pause", "paused", "Stop running a schedule until it is resumed.")
_schedule_change("resume", "active", "Run a paused schedule again.")
_schedule_change("delete", "deleted", "Delete a schedule (its past runs stay in the history).")
_schedule_change("approve", "approved", "Approve a schedule that changes things (once, as an approver).")


@cli.group()
def history() -> None:
    """Stored results: how long they are kept (retention.*_days) and pruning them."""


@history.command("prune")
@click.option("--dry-run", is_flag=True, help="Count what would be removed; remove nothing.")
@click.pass_context
@one_line_errors
def history_prune(ctx: click.Context, dry_run: bool) -> None:
    """Remove stored results older than their retention now (serving replicas do it once a day)."""
    from bot.retention import prune_from_console

    for line in run(prune_from_console(load_settings(ctx), dry_run=dry_run)):
        click.echo(line)


@cli.command()
@click.pass_context
@one_line_errors
def serve(ctx: click.Context) -> None:
    """Run the HTTP server: Slack and Teams endpoints, /health and /metrics."""
    from bot.app import running_app
    from bot.extras import check_extras
    from bot.logging_setup import configure_logging
    from bot.server import serve as serve_http

    settings = load_settings(ctx)
    check_extras(settings, serving=True)
    configure_logging("serve")

    async def go() -> None:
        async with running_app(settings) as app:
            await serve_http(settings, app)

    run(until_signalled(go()))


@cli.command()
@click.pass_context
@one_line_errors
def worker(ctx: click.Context) -> None:
    """Run plan steps dispatched through Redis (jobs.engine=arq); /health and /metrics too."""
    from bot.logging_setup import configure_logging
    from bot.worker import run_worker

    settings = load_settings(ctx)
    configure_logging("worker")
    run(run_worker(settings))


@cli.group()
def credentials() -> None:
    """The encrypted host credentials."""


def _scope_options(func: Callable[P, R]) -> Callable[P, R]:
    """HOST | --tag KEY=VALUE | --default: where a stored login applies."""
    func = click.option("--default", "default", is_flag=True, help="Every host (the last resort).")(func)
    func = click.option("--tag", metavar="KEY=VALUE", help="Every host with this tag.")(func)
    return click.argument("host", required=False)(func)


def _scope_choice(host: str | None, tag: str | None, default: bool) -> Any:
    from bot.logins import ScopeChoice

    choice = ScopeChoice(host, tag, default)
    if choice.problem():
        fail(str(choice.problem()), EXIT_USAGE)
    return choice


@credentials.command("set")
@_scope_options
@click.option("--user", required=True, help="The account to log in as (e.g. opsconductor, not root).")
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), help="An SSH private key.")
@click.option("--password-stdin", is_flag=True, help="Read a password from stdin (SSH or WinRM).")
@click.option("--winrm", is_flag=True, help="The password is for WinRM (implied for a Windows host).")
@click.pass_context
@one_line_errors
def credentials_set(
    ctx: click.Context,
    host: str | None,
    tag: str | None,
    default: bool,
    user: str,
    key_file: Path | None,
    password_stdin: bool,
    winrm: bool,
) -> None:
    """Store the login for HOST, for every host with --tag KEY=VALUE, or --default (host > tag > default)."""
    from bot.logins import NewLogin, read_key_file, set_login

    choice = _scope_choice(host, tag, default)
    if (key_file is None) == (not password_stdin):
        fail("give either --key-file FILE or --password-stdin", EXIT_USAGE)
    if key_file is not None:
        login = NewLogin(user, key=read_key_file(key_file), winrm=winrm)
    else:
        login = NewLogin(user, password=sys.stdin.readline().rstrip("\r\n"), winrm=winrm)
    click.echo(run(set_login(load_settings(ctx), choice, login)))


@credentials.command("list")
@click.pass_context
@one_line_errors
def credentials_list(ctx: click.Context) -> None:
    """Every stored login: scope, user, kind, key fingerprint (never a secret)."""
    from bot.logins import list_logins, login_line

    found = run(list_logins(load_settings(ctx)))
    for login in found:
        click.echo(login_line(login))
    if not found:
        click.echo("no credentials stored (add one: opsconductor credentials set HOST --user U --key-file F)")


@credentials.command("delete")
@_scope_options
@click.option("--kind", type=click.Choice(["ssh_key", "password", "winrm"]), help="Only this kind.")
@click.pass_context
@one_line_errors
def credentials_delete(
    ctx: click.Context, host: str | None, tag: str | None, default: bool, kind: str | None
) -> None:
    """Delete the stored login(s) of HOST, --tag KEY=VALUE or --default."""
    from bot.logins import delete_login

    click.echo(run(delete_login(load_settings(ctx), _scope_choice(host, tag, default), kind)))  # type: ignore[arg-type]


@credentials.command("rotate-key")
@click.option(
    "--new-key", help="Base64 of 32 random bytes ('-' reads it from stdin); generated when omitted."
)
@click.pass_context
@one_line_errors
def credentials_rotate_key(ctx: click.Context, new_key: str | None) -> None:
    """Re-encrypt every stored credential under a new key (rerunnable after an interruption)."""
    if new_key == "-":
        new_key = sys.stdin.readline().strip()
    count, generated = run(rotate_credential_key(load_settings(ctx), new_key))
    click.echo(f"re-encrypted {count} credentials")
    if generated is not None:
        click.echo(f"new key (store it now; it is not shown again): {generated}")


@cli.group()
def hosts() -> None:
    """SSH host keys the bot trusts (its known_hosts: ssh.known_hosts, else <home>/known_hosts)."""


@hosts.command("trust")
@click.argument("host")
@click.option("--fingerprint", metavar="SHA256:...", help="Record the key only if it has this fingerprint.")
@click.option("--yes", is_flag=True, help="Record the key without asking (you checked it another way).")
@click.pass_context
@one_line_errors
def hosts_trust(ctx: click.Context, host: str, fingerprint: str | None, yes: bool) -> None:
    """Connect to HOST, show the fingerprint of its host key and record it once confirmed."""
    from bot.host_keys import trust_host

    if fingerprint is None and not yes and not sys.stdin.isatty():
        fail(
            "confirm the key with --fingerprint SHA256:... (on the host: ssh-keygen -lf "
            "/etc/ssh/ssh_host_ed25519_key.pub) or --yes",
            EXIT_USAGE,
        )

    def confirm(line: str) -> bool:
        return yes or click.confirm("Is this the key of that host (compare it on the host itself)?")

    run(trust_host(load_settings(ctx), host, fingerprint, confirm, click.echo))


@hosts.command("forget")
@click.argument("host")
@click.pass_context
@one_line_errors
def hosts_forget(ctx: click.Context, host: str) -> None:
    """Remove HOST's keys from the known_hosts file (then `hosts trust` it again)."""
    from bot.host_keys import forget_host

    click.echo(run(forget_host(load_settings(ctx), host)))


@cli.group()
def tools() -> None:
    """The tool catalog: built-in tools and the ones defined in catalog files."""


@tools.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@one_line_errors
def tools_validate(paths: tuple[Path, ...]) -> None:
    """Check definition files (or folders of them); errors as file:line: message, exit 1."""
    from bot.catalog import validate

    problems, count = validate(list(paths))
    for problem in problems:
        err_console.print(problem, markup=False, highlight=False, soft_wrap=True)
    if problems:
        sys.exit(EXIT_ERROR)
    click.echo(f"{count} definitions valid")


@tools.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list.")
@click.pass_context
@one_line_errors
def tools_list(ctx: click.Context, as_json: bool) -> None:
    """Every tool: name, risk, whether it takes targets, where it is defined."""
    from bot.catalog import registry, summary

    rows = [summary(spec) for spec in registry(load_settings(ctx))]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        click.echo(f"{row['name']:<32} {row['risk']:<8} {row['source']}")


@tools.command("show")
@click.argument("name")
@click.pass_context
@one_line_errors
def tools_show(ctx: click.Context, name: str) -> None:
    """One tool's declaration: arguments, risk, phrasing, source file and digest."""
    from bot.catalog import detail, registry

    print_json(detail(registry(load_settings(ctx)).get(name)))


@tools.command("reload")
@click.pass_context
@one_line_errors
def tools_reload(ctx: click.Context) -> None:
    """Validate the catalog and have running processes on this machine load it with their next
    request (they also reload on their own when a file changes, and on SIGHUP)."""
    from bot.catalog import request_reload

    problems, count = request_reload(load_settings(ctx))
    for problem in problems:
        err_console.print(problem, markup=False, highlight=False, soft_wrap=True)
    if problems:
        fail("the catalog is invalid; running processes keep the definitions they have")
    click.echo(f"{count} definitions valid; running processes load them with their next request")


@cli.group()
def tokens() -> None:
    """Personal API tokens for the HTTP API (scripts, CI)."""


@tokens.command("create")
@click.option("--person", required=True, help="Who the token acts as (roles file name or Keycloak user).")
@click.option("--role", "roles", multiple=True, help="A role (repeatable); default: the person's roles.")
@click.option("--expires", help="Lifetime such as 30d, 12h, 90m or 2w; default: never.")
@click.option("--label", default="", help="What the token is for (shown in `tokens list`).")
@click.pass_context
@one_line_errors
def tokens_create(
    ctx: click.Context, person: str, roles: tuple[str, ...], expires: str | None, label: str
) -> None:
    """Create a token; it is printed once and only its hash is stored."""
    from bot.tokens import create_token, describe

    record, token = run(create_token(load_settings(ctx), person, roles, expires, label))
    click.echo(describe(record))
    click.echo(f"token (shown once, store it now): {token}")


@tokens.command("list")
@click.option("--person", help="Only this person's tokens.")
@click.pass_context
@one_line_errors
def tokens_list(ctx: click.Context, person: str | None) -> None:
    """List tokens (never their secrets)."""
    from bot.tokens import describe, list_tokens

    for record in run(list_tokens(load_settings(ctx), person)):
        click.echo(describe(record))


@tokens.command("revoke")
@click.argument("token_id")
@click.pass_context
@one_line_errors
def tokens_revoke(ctx: click.Context, token_id: str) -> None:
    """Revoke a token by its id; it stops working at once."""
    from bot.tokens import revoke_token

    if not run(revoke_token(load_settings(ctx), token_id)):
        fail(f"no active token {token_id}")
    click.echo(f"revoked {token_id}")


@cli.command("eval")
@click.argument("cases", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--inventory", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_context
@one_line_errors
def eval_cmd(ctx: click.Context, cases: Path, inventory: Path, out: Path) -> None:
    """Plan (never execute) every request of a labelled JSONL file and score it."""
    from bot.evaluation import run_eval_with_settings

    sys.exit(run(run_eval_with_settings(load_settings(ctx), cases, inventory, out)))


async def rotate_credential_key(settings: Settings, new_key: str | None) -> tuple[int, str | None]:
    """Re-encrypt the credentials; returns (rows re-encrypted, the generated key to show or None).

    Embedded default (key file under home): the new key is staged beside the old one, the
    rows re-encrypted, then the file swapped. Configured key (production): the operator
    sets OPSCONDUCTOR_SECURITY__CREDENTIAL_KEY to the new key and restarts every process.
    """
    from bot.app import credential_cipher, prepare_database
    from db.credentials import SqlCredentialStore
    from db.engine import session_factory
    from domains.assets.credentials import CredentialCipher, commit_key_file, stage_key_file

    embedded = not settings.security.credential_key.get_secret_value().strip()
    engine = await prepare_database(settings)
    try:
        old = await credential_cipher(settings, session_factory(engine))  # never a fresh key here
        new = CredentialCipher.from_base64(new_key) if new_key else CredentialCipher.generate()
        if new.key_id == old.key_id:
            raise ValueError("the new key is the current key")
        if embedded:
            stage_key_file(settings.home, new)
        count = await SqlCredentialStore(session_factory(engine), old).rotate(new)
        if embedded:
            commit_key_file(settings.home)
    finally:
        await engine.dispose()
    shown = new.export_key().get_secret_value() if new_key is None and not embedded else None
    return count, shown


async def until_signalled(work: Awaitable[None]) -> None:
    """Run `work` until SIGTERM/SIGINT, then cancel it so its cleanup runs (containers stop cleanly)."""
    import contextlib
    import signal

    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main() -> None:
    cli(prog_name="opsconductor")


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


__all__ = ["Decision", "cli", "main"]
