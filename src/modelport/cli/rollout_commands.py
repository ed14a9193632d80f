"""``modelport rollout``: shadow, canary, A/B, status, promote, abort and rollback of an endpoint,
through a running server's admin API.

The group is :data:`rollout_app`; the report commands (``compare``, ``analyze``), which only read
the prediction log, are registered into it from ``rollout_report_commands``.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from modelport.cli.admin_client import AdminClient
from modelport.cli.errors import handle_errors
from modelport.errors import ConfigError, NotFoundError
from modelport.rollout.plan import KeySource, parse_plan

console = Console(soft_wrap=True)

rollout_app = typer.Typer(name="rollout", no_args_is_help=True,
                          help="Shadow, canary and A/B rollouts of an endpoint on a running server.")

SERVER = Annotated[str | None, typer.Option(
    "--server", help="the server's base URL [$MODELPORT_SERVER or http://127.0.0.1:8000]")]
REASON = Annotated[str | None, typer.Option("--reason", help="why, kept in the endpoint's history")]
PRIMARY = Annotated[str | None, typer.Option(
    "--primary", help="the primary, when the endpoint has no plan yet (a registry reference)")]
AS_JSON = Annotated[bool, typer.Option("--json", help="print the answer as JSON")]
SALT = Annotated[str | None, typer.Option(
    help="mixed into the key's hash: which keys land where [kept when the same test or canary runs "
         "again, else new, so a new experiment reshuffles the users]")]


def _same_key(stored: object, given: str) -> bool:
    """Whether a plan's stored key (as the server writes it back) is the key given on the command line."""
    try:
        return stored == str(KeySource.parse(given))
    except ValueError:  # named when the plan is checked
        return False


def _salt(given: str | None, running: dict[str, Any] | None, same: bool) -> str:
    """The salt given, else the running experiment's when this is the same one again (a new split or
    weight must not move users), else a fresh one."""
    if given:
        return given
    if same and running is not None and running.get("salt"):
        return str(running["salt"])
    return secrets.token_hex(4)


def _current(client: AdminClient, endpoint: str, primary: str | None) -> dict[str, Any]:
    """The endpoint's plan now, or a new one with ``primary``."""
    try:
        plan: dict[str, Any] = client.call("GET", f"/endpoints/{endpoint}")["plan"]
    except NotFoundError:
        if primary is None:
            raise ConfigError(f"endpoint {endpoint!r} has no plan yet: name its primary with "
                              "--primary REF") from None
        return {"primary": primary}
    if primary is not None:
        plan["primary"] = primary
    return plan


def _put(client: AdminClient, endpoint: str, plan: dict[str, Any], reason: str | None, as_json: bool) -> None:
    parse_plan(endpoint, plan)  # a bad plan is named here, before the server sees it
    answer = client.call("PUT", f"/endpoints/{endpoint}", {"plan": plan, "reason": reason})
    _show(answer.get("status", answer), as_json)


def _show(status: dict[str, Any], as_json: bool) -> None:
    if as_json:
        console.print_json(data=status)
        return
    plan = status.get("plan") or {}
    console.print(f"[bold]{status.get('endpoint')}[/] revision {status.get('revision')}, changed "
                  f"{status.get('updated_at')} by {status.get('updated_by')}", highlight=False)
    console.print(f"  primary  {plan.get('primary')}", highlight=False)
    canary = plan.get("canary")
    if canary:
        console.print(f"  canary   {canary['ref']} at {canary.get('weight')}% (steps {canary.get('steps')}, "
                      f"every {canary.get('interval')})", highlight=False)
    ab = plan.get("ab")
    if ab:
        arms = ", ".join(f"{name}={ref}" for name, ref in ab["arms"].items())
        salted = f" salt {ab['salt']}" if ab.get("salt") else ""
        console.print(f"  A/B      {arms} split {ab['split']} key {ab['key']}{salted}", highlight=False)
    for shadow in plan.get("shadows", []):
        console.print(f"  shadow   {shadow}", highlight=False)
    routing = status.get("routing") or {}
    if routing.get("versions"):
        table = Table("reference", "served as", "ready", title="versions on the answering worker")
        for ref, found in routing["versions"].items():
            table.add_row(ref, found["served"], "yes" if found["ready"] else "[red]no[/]")
        console.print(table)
    state = status.get("state")
    if state:
        console.print(f"  canary state: {state.get('phase')}, step {int(state.get('step', 0)) + 1}: "
                      f"{state.get('reason')}", highlight=False)
        for gate in state.get("results", []):
            console.print(f"    {gate['gate']}: {gate['outcome']} ({gate['detail']})", highlight=False)


@rollout_app.command("shadow")
@handle_errors
def shadow_command(
    endpoint: Annotated[str, typer.Argument(help="the endpoint clients call")],
    ref: Annotated[str, typer.Argument(help="the version to shadow (a registry reference)")],
    primary: PRIMARY = None, server: SERVER = None, reason: REASON = None, as_json: AS_JSON = False,
) -> None:
    """Send a copy of the endpoint's live requests to REF after the primary answered; its outputs are
    logged (role shadow, linked to the primary prediction) and never returned."""
    client = AdminClient(server)
    plan = _current(client, endpoint, primary)
    plan["shadows"] = list(dict.fromkeys([*plan.get("shadows", []), ref]))
    _put(client, endpoint, plan, reason or f"shadow {ref}", as_json)


@rollout_app.command("canary")
@handle_errors
def canary_command(
    endpoint: Annotated[str, typer.Argument(help="the endpoint clients call")],
    ref: Annotated[str, typer.Argument(help="the candidate version (a registry reference)")],
    steps: Annotated[str, typer.Option(help="percent of traffic at each step")] = "1,5,25,50,100",
    interval: Annotated[str, typer.Option(help="the least time at each step: 30s, 5m, 1h")] = "5m",
    min_requests: Annotated[int, typer.Option(help="fewer requests on either side: inconclusive")] = 200,
    max_error_rate: Annotated[float, typer.Option(help="the canary's largest share of 5xx")] = 0.01,
    max_p99_ratio: Annotated[float, typer.Option(help="canary p99 latency over the primary's")] = 1.2,
    max_disagreement: Annotated[float | None, typer.Option(
        help="how far its predictions may lie from the primary's (0-1)")] = None,
    metric: Annotated[str | None, typer.Option(
        help="a business metric from feedback, e.g. conversion>=baseline")] = None,
    key: Annotated[str | None, typer.Option(
        help="keep each key on its side as the weight grows: header:NAME or field:NAME")] = None,
    salt: SALT = None,
    primary: PRIMARY = None, server: SERVER = None, reason: REASON = None, as_json: AS_JSON = False,
) -> None:
    """Move REF through the steps while its gates pass against the primary on the same window;
    promote it after the last, roll it back at once when a gate fails."""
    client = AdminClient(server)
    plan = _current(client, endpoint, primary)
    plan.pop("ab", None)
    gates: dict[str, Any] = {"min_requests": min_requests, "max_error_rate": max_error_rate,
                             "max_p99_ratio": max_p99_ratio}
    if max_disagreement is not None:
        gates["max_disagreement"] = max_disagreement
    if metric is not None:
        gates["metric"] = metric
    canary: dict[str, Any] = {"ref": ref, "steps": steps, "interval": interval, "gates": gates}
    if key is not None:
        running = plan.get("canary")
        same = isinstance(running, dict) and running.get("ref") == ref and _same_key(running.get("key"), key)
        canary["key"] = key
        canary["salt"] = _salt(salt, running if isinstance(running, dict) else None, same)
    plan["canary"] = canary
    _put(client, endpoint, plan, reason or f"canary {ref}", as_json)


@rollout_app.command("ab")
@handle_errors
def ab_command(
    endpoint: Annotated[str, typer.Argument(help="the endpoint clients call")],
    ref_a: Annotated[str, typer.Argument(help="arm a, the control")],
    ref_b: Annotated[str, typer.Argument(help="arm b, the treatment")],
    split: Annotated[float, typer.Option(help="percent of traffic on arm a")] = 50.0,
    key: Annotated[str, typer.Option(help="the sticky key: header:NAME or field:NAME")] = "header:X-User-Id",
    salt: SALT = None,
    server: SERVER = None, reason: REASON = None, as_json: AS_JSON = False,
) -> None:
    """Split the endpoint's traffic between two arms, each key kept on its arm by a hash of the key and
    the test's salt (a new test gets a new salt, so it reshuffles the users)."""
    client = AdminClient(server)
    plan = _current(client, endpoint, ref_a)
    plan.pop("canary", None)
    plan["primary"] = ref_a
    arms = {"a": ref_a, "b": ref_b}
    running = plan.get("ab")
    same = isinstance(running, dict) and running.get("arms") == arms and _same_key(running.get("key"), key)
    plan["ab"] = {"arms": arms, "split": [split, 100.0 - split], "key": key,
                  "salt": _salt(salt, running if isinstance(running, dict) else None, same)}
    _put(client, endpoint, plan, reason or f"A/B {ref_a} vs {ref_b}", as_json)


@rollout_app.command("status")
@handle_errors
def status_command(
    endpoint: Annotated[str | None, typer.Argument(help="one endpoint (default: all)")] = None,
    server: SERVER = None, as_json: AS_JSON = False,
) -> None:
    """Where each endpoint stands: its plan, which versions are ready, the canary's step and gates."""
    client = AdminClient(server)
    if endpoint is not None:
        _show(client.call("GET", f"/endpoints/{endpoint}"), as_json)
        return
    for status in client.call("GET", "/endpoints")["endpoints"]:
        _show(status, as_json)


def _act(action: str, endpoint: str, server: str | None, reason: str | None, as_json: bool) -> None:
    client = AdminClient(server)
    answer = client.call("POST", f"/endpoints/{endpoint}/{action}", {"reason": reason} if reason else {})
    if as_json:
        console.print_json(data=answer)
        return
    detail = answer.get("detail") or {}
    moved = f" ({detail['from']} -> {detail['to']})" if "from" in detail and "to" in detail else ""
    console.print(f"{endpoint}: {answer.get('action')}{moved}: {answer.get('reason')}", highlight=False)


@rollout_app.command("promote")
@handle_errors
def promote_command(endpoint: Annotated[str, typer.Argument(help="the endpoint")], server: SERVER = None,
                    reason: REASON = None, as_json: AS_JSON = False) -> None:
    """Make the canary the primary now (its alias moves; the history says why)."""
    _act("promote", endpoint, server, reason, as_json)


@rollout_app.command("abort")
@handle_errors
def abort_command(endpoint: Annotated[str, typer.Argument(help="the endpoint")], server: SERVER = None,
                  reason: REASON = None, as_json: AS_JSON = False) -> None:
    """Send all traffic back to the primary now; the canary leaves the plan."""
    _act("abort", endpoint, server, reason, as_json)


@rollout_app.command("rollback")
@handle_errors
def rollback_command(endpoint: Annotated[str, typer.Argument(help="the endpoint")], server: SERVER = None,
                     reason: REASON = None, as_json: AS_JSON = False) -> None:
    """Return the endpoint's traffic to the previous known-good version (kept warm: within a second)."""
    _act("rollback", endpoint, server, reason, as_json)
