"""``modelport models | alias | history | rollback | archive``: the registry from the command line."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from modelport.cli.errors import handle_errors
from modelport.core.refs import DEFAULT_ALIAS, RefKind, parse_ref
from modelport.errors import ArchivedVersionError, NotFoundError, RefError
from modelport.registry.records import HistoryEntry
from modelport.settings import Settings

if TYPE_CHECKING:
    from modelport.registry.service import Registry

console = Console()
models_app = typer.Typer(name="models", no_args_is_help=True, help="Registered models.")
alias_app = typer.Typer(name="alias", no_args_is_help=True, help="Point aliases at versions.")

JSON = Annotated[bool, typer.Option("--json", help="print JSON")]
REASON = Annotated[str | None, typer.Option("--reason", help="why, kept in the history")]
USER = Annotated[str | None, typer.Option("--user", help="who (default: $MODELPORT_USER, "
                                                          "else the OS user)")]


def open_registry() -> Registry:
    """The registry the environment configures (SQLAlchemy is imported here, not with the CLI)."""
    from modelport.registry.service import Registry

    return Registry(Settings.from_env().registry_config())


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def _move(entry: HistoryEntry) -> str:
    before = "unset" if entry.from_version is None else str(entry.from_version)
    after = "unset" if entry.to_version is None else str(entry.to_version)
    return f"{entry.name}@{entry.alias}: {before} → {after}"


@models_app.command("list")
@handle_errors
def list_command(as_json: JSON = False) -> None:
    """Every registered model: versions, the newest, and its aliases."""
    with open_registry() as registry:
        found = registry.list_models()
    if as_json:
        _print_json([m.to_dict() for m in found])
        return
    table = Table(title="models")
    for column in ("name", "versions", "latest", "aliases", "archived"):
        table.add_column(column)
    for model in found:
        aliases = ", ".join(f"{a}={v}" for a, v in model.aliases.items())
        table.add_row(model.name, str(model.versions), str(model.latest or "-"), aliases,
                      str(model.archived))
    console.print(table)


@models_app.command("show")
@handle_errors
def show_command(
    ref: Annotated[str, typer.Argument(help="NAME (every version), NAME:VERSION, NAME@ALIAS or a digest")],
    as_json: JSON = False,
) -> None:
    """Show a model and its versions, or one version in detail."""
    parsed = parse_ref(ref)
    if parsed.kind is RefKind.PATH:
        raise RefError(f"{ref!r} is a path; `modelport inspect {ref}` shows an artifact folder")
    with open_registry() as registry:
        if parsed.kind is RefKind.NAME:
            assert parsed.name is not None
            _show_model(registry, parsed.name, as_json)
            return
        resolved = registry.resolve(parsed, allow_archived=True)
        if resolved.version is None:
            raise NotFoundError(f"{ref} is in the artifact store but no model version names it")
        details = registry.details(resolved.version)
    data = details.to_dict() | {"path": str(resolved.path)}
    if as_json:
        _print_json(data)
        return
    table = Table(title=details.version.ref, show_header=False)
    for key in ("digest", "flavor", "task", "archived", "created_at", "created_by", "path"):
        table.add_row(key, str(data[key]))
    table.add_row("aliases", ", ".join(details.aliases) or "-")
    table.add_row("tags", ", ".join(f"{k}={v}" for k, v in details.tags.items()) or "-")
    console.print(table)


def _show_model(registry: Registry, name: str, as_json: bool) -> None:
    versions = registry.list_versions(name)
    aliases = registry.aliases_of(name)
    try:
        serves: int | None = registry.version_for(parse_ref(name)).version
    except ArchivedVersionError:  # every version is archived: the bare name serves nothing
        serves = None
    if as_json:
        _print_json({"name": name, "serves": serves, "aliases": aliases,
                     "versions": [v.to_dict() for v in versions]})
        return
    table = Table(title=f"{name} (bare name serves version {serves or '-'})")
    for column in ("version", "digest", "flavor", "task", "aliases", "tags", "created", "by"):
        table.add_column(column)
    for item in versions:
        v = item.version
        label = f"{v.version} (archived)" if v.archived else str(v.version)
        table.add_row(label, v.digest[:12], v.flavor, v.task, ", ".join(item.aliases),
                      ", ".join(f"{k}={val}" for k, val in item.tags.items()),
                      v.created_at.strftime("%Y-%m-%d %H:%M:%S"), v.created_by)
    console.print(table)


@alias_app.command("set")
@handle_errors
def alias_set_command(
    name: Annotated[str, typer.Argument(help="model name")],
    alias: Annotated[str, typer.Argument(help="alias: production, candidate, shadow, ...")],
    version: Annotated[int, typer.Argument(help="version number", min=1)],
    reason: REASON = None,
    user: USER = None,
) -> None:
    """Point ALIAS of NAME at VERSION (recorded in the history)."""
    with open_registry() as registry:
        entry = registry.set_alias(name, alias, version, who=user, reason=reason)
    console.print(_move(entry), highlight=False)


@alias_app.command("rm")
@handle_errors
def alias_rm_command(
    name: Annotated[str, typer.Argument(help="model name")],
    alias: Annotated[str, typer.Argument(help="alias to remove")],
    reason: REASON = None,
    user: USER = None,
) -> None:
    """Remove ALIAS from NAME (recorded in the history; rollback can restore it)."""
    with open_registry() as registry:
        entry = registry.remove_alias(name, alias, who=user, reason=reason)
    console.print(_move(entry), highlight=False)


@handle_errors
def history_command(
    name: Annotated[str, typer.Argument(help="model name")],
    alias: Annotated[str | None, typer.Option("--alias", help="only this alias's moves")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="only the newest N", min=1)] = None,
    as_json: JSON = False,
) -> None:
    """Every change to NAME, oldest first: what, from, to, when, who and why."""
    with open_registry() as registry:
        entries = registry.history(name, alias=alias, limit=limit)
    if as_json:
        _print_json([e.to_dict() for e in entries])
        return
    table = Table(title=f"history of {name}")
    for column in ("#", "when", "who", "what", "version/alias", "from", "to", "reason"):
        table.add_column(column)
    for e in entries:
        subject = e.alias if e.alias is not None else (str(e.version) if e.version else "")
        if e.detail and "key" in e.detail:
            subject = f"{e.version} tag {e.detail['key']}"
            before, after = e.detail.get("from"), e.detail.get("to")
        else:
            before, after = e.from_version, e.to_version
        table.add_row(str(e.id), e.at.strftime("%Y-%m-%d %H:%M:%S"), e.who, e.action, subject,
                      "" if before is None else str(before), "" if after is None else str(after),
                      e.reason or "")
    console.print(table)


@handle_errors
def rollback_command(
    name: Annotated[str, typer.Argument(help="model name")],
    alias: Annotated[str, typer.Option("--alias", help="the alias to move back")] = DEFAULT_ALIAS,
    to: Annotated[int | None, typer.Option("--to", help="version to move it to", min=1)] = None,
    reason: REASON = None,
    user: USER = None,
    server: Annotated[str | None, typer.Option(
        "--server", help="NAME is an endpoint: roll it back through this running server's admin API "
                         "(token: $MODELPORT_ADMIN_TOKEN)")] = None,
) -> None:
    """Move an alias back to its previous live target (or --to VERSION), recording why.

    With --server, NAME is an endpoint of that server: its traffic returns to the previous
    known-good version (a running canary is rolled back, or the alias its primary follows moves back).
    """
    if server is not None:
        from modelport.cli.admin_client import AdminClient

        answer = AdminClient(server, user=user).call(
            "POST", f"/endpoints/{name}/rollback", {"reason": reason} if reason else {})
        detail = answer.get("detail") or {}
        console.print(f"rolled back endpoint {name}: {detail.get('from')} -> {detail.get('to')}",
                      highlight=False)
        return
    with open_registry() as registry:
        entry = registry.rollback(name, alias=alias, to=to, who=user, reason=reason)
    console.print(f"rolled back {_move(entry)}", highlight=False)


@handle_errors
def archive_command(
    name: Annotated[str, typer.Argument(help="model name")],
    version: Annotated[int, typer.Argument(help="version number", min=1)],
    undo: Annotated[bool, typer.Option("--undo", help="unarchive: serve it again")] = False,
    reason: REASON = None,
    user: USER = None,
) -> None:
    """Archive a version: kept (and in the history) but never served or aliased."""
    with open_registry() as registry:
        if undo:
            done = registry.unarchive(name, version, who=user, reason=reason)
        else:
            done = registry.archive(name, version, who=user, reason=reason)
    console.print(f"{done.ref} {'archived' if done.archived else 'live'}", highlight=False)
