"""`kotaku user ...` and `kotaku audit ...`: accounts, passwords and tokens, and the hash-chained audit trail."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import typer

from api.cli.context import connect, current_settings, database_url, migrate
from api.cli.output import err, out
from api.cli.root import app
from geo.errors import InvalidInput

user_app = typer.Typer(help="Users: one role each, scoped to an area; passwords and bearer tokens.",
                       no_args_is_help=True)
audit_app = typer.Typer(help="The append-only, hash-chained audit trail.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")


def _with_connection(action: Callable[..., Any]) -> Any:
    """Run `action(conn)` (a coroutine of layers.accounts.users) on an async connection working as the app's role."""
    import asyncio

    from layers.db.connection import connect_async

    url = database_url()
    migrate(url)

    async def run() -> Any:
        async with await connect_async(url, autocommit=True, app_role=current_settings().app_role,
                                       app_database_url=current_settings().app_database_url) as conn:
            return await action(conn)

    return asyncio.run(run())


def _read_password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise InvalidInput("--password-stdin: no password on standard input")
    return line


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="User name: lowercase letters, digits, '.', '_', '-'"),
    role: str = typer.Option(..., help="kepling, lurah, camat, opd, bappeda, pokja, konsultan or admin"),
    area: str = typer.Option(None, help="kepling 12.71.01.1001/Lingkungan 02; lurah 12.71.01.1001; camat "
                                        "12.71.01; opd 12.71/Dinas PU; bappeda, pokja 12.71; konsultan 12.71,73.07"),
    agency: str = typer.Option(None, help="opd: its agency (or after '/' in --area)"),
    display_name: str = typer.Option(None, "--display-name", help="Full name shown in pages"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input "
                                        "(otherwise one is generated and printed once)"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Add a user with one role scoped to an area."""
    from layers.accounts.access import cli_principal
    from layers.accounts.users import add_user

    password = _read_password(password_stdin)
    user, generated = _with_connection(lambda conn: add_user(
        conn, cli_principal(), name, role, area, password=password, display_name=display_name, agency=agency))
    if as_json:
        print(json.dumps({**user.as_dict(), "password": generated}, ensure_ascii=False))
        return
    scope = user.area_code or ",".join(user.tenants) or "all"
    out.print(f"user {user.username} added: {user.role} of {scope}" + (f" ({user.agency})" if user.agency else ""),
              highlight=False)
    if generated:
        out.print(f"password: {generated}   (shown once: give it to the user)", highlight=False)


@user_app.command("list")
def user_list(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """List users with their role, area and state."""
    from layers.accounts.access import cli_principal
    from layers.accounts.users import list_users

    users = _with_connection(lambda conn: list_users(conn, cli_principal()))
    if as_json:
        print(json.dumps([u.as_dict() for u in users], ensure_ascii=False))
        return
    for user in users:
        scope = user.area_code or ",".join(user.tenants) or "-"
        state = "disabled" if user.disabled else "active"
        out.print(f"{user.username:24} {user.role:10} {scope:34} {user.agency or '':16} {state}", highlight=False)


@user_app.command("token")
def user_token(
    name: str = typer.Argument(..., help="User name"),
    label: str = typer.Option(None, help="What the token is for, e.g. 'QGIS kantor'"),
    expires_days: int = typer.Option(None, "--expires-days", help="Expire after this many days (default: never)"),
) -> None:
    """Print a new bearer token for the user (only its hash is kept: it cannot be shown again)."""
    from layers.accounts.access import cli_principal
    from layers.accounts.users import issue_token

    token_id, token = _with_connection(lambda conn: issue_token(conn, cli_principal(), name, label=label,
                                                                expires_days=expires_days))
    err.print(f"token {token_id} for {name} (send it as 'Authorization: Bearer TOKEN'; "
              f"revoke with 'kotaku user revoke {name} --token {token_id}')", highlight=False)
    print(token)


@user_app.command("revoke")
def user_revoke(
    name: str = typer.Argument(..., help="User name"),
    token: int = typer.Option(None, "--token", help="Only this token id (default: every token and session)"),
) -> None:
    """Revoke a bearer token of the user, or all its tokens and sessions."""
    from layers.accounts.access import cli_principal
    from layers.accounts.users import revoke_tokens

    revoked = _with_connection(lambda conn: revoke_tokens(conn, cli_principal(), name, token))
    out.print(f"revoked {len(revoked)} token(s)/session(s) of {name}: {revoked}", highlight=False)


def _set_disabled(name: str, disabled: bool) -> None:
    from layers.accounts.access import cli_principal
    from layers.accounts.users import set_disabled

    user = _with_connection(lambda conn: set_disabled(conn, cli_principal(), name, disabled))
    out.print(f"user {user.username} {'disabled (tokens and sessions revoked)' if user.disabled else 'enabled'}",
              highlight=False)


@user_app.command("disable")
def user_disable(name: str = typer.Argument(..., help="User name")) -> None:
    """Disable a user: it can no longer log in, and its tokens and sessions stop working at once."""
    _set_disabled(name, True)


@user_app.command("enable")
def user_enable(name: str = typer.Argument(..., help="User name")) -> None:
    """Enable a disabled user again (it needs a new token or a login)."""
    _set_disabled(name, False)


@user_app.command("password")
def user_password(
    name: str = typer.Argument(..., help="User name"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the new password from standard "
                                        "input (otherwise one is generated and printed once)"),
) -> None:
    """Set a new password (the user's sessions end)."""
    from layers.accounts.access import cli_principal
    from layers.accounts.users import set_password

    password = _read_password(password_stdin)
    generated = _with_connection(lambda conn: set_password(conn, cli_principal(), name, password))
    out.print(f"password of {name} changed" + (f": {generated}   (shown once)" if generated else ""),
              highlight=False)


@audit_app.command("verify")
def audit_verify(
    head: str = typer.Option(None, "--head", help="A head hash printed by an earlier verify: it must still be in "
                                                  "the chain (detects deleted newest entries)"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Check the hash chain; exit 1 naming the first broken entry."""
    from layers.accounts.audit import verify

    url = database_url()
    migrate(url)
    with connect(url) as conn:
        result = verify(conn, expected_head=head)
    if as_json:
        print(json.dumps(result.as_dict()))
    elif result.ok:
        out.print(f"audit trail intact: {result.entries} entries; head {result.head_id} {result.head_hash}",
                  highlight=False)
    else:
        err.print(f"[bold red]audit trail broken:[/] {result.problem}", highlight=False)
        if result.broken_id is not None:
            err.print(f"first broken entry: {result.broken_id} ({result.entries} entries before it are intact)",
                      highlight=False)
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("list")
def audit_list(
    limit: int = typer.Option(20, help="How many of the newest entries"),
    entity: str = typer.Option(None, help="Only this entity (user, api_token, decree, ...)"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Show the newest audit entries."""
    from layers.accounts.audit import recent

    url = database_url()
    migrate(url)
    with connect(url) as conn:
        entries = recent(conn, limit=limit, entity=entity)
    if as_json:
        print(json.dumps(entries, ensure_ascii=False, default=str))
        return
    for e in entries:
        out.print(f"{e['id']:>6} {e['at']:%Y-%m-%d %H:%M:%S} {e['actor']:20} {e['action']:22} "
                  f"{e['entity']}:{e['entity_id'] or ''}", highlight=False)

