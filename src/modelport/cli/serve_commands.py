"""``modelport serve``: resolve model references, then run the online server on uvicorn.

References go through a resolver the composition root passes in: ``resolve_ref`` resolves through
the registry (``name@production``, ``name:3``, a digest) or takes a path to an artifact as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import typer

from modelport.cli.errors import handle_errors
from modelport.cli.registry_commands import open_registry
from modelport.inference.load import load
from modelport.inference.model import LoadedModel
from modelport.serving.config import ServerConfig
from modelport.serving.http.app import build_service, create_app

log = logging.getLogger("modelport.serving")


@dataclass(frozen=True)
class Resolved:
    """A model to serve: loaded (golden check left to the server) with its served name and version."""

    model: LoadedModel
    name: str | None = None
    version: str | None = None


#: REF → model; raises a modelport error (NotFoundError, IntegrityError, ...) it cannot resolve.
Resolver = Callable[[str, bool], Resolved]


def resolve_ref(ref: str, allow_env_mismatch: bool) -> Resolved:
    """Any registry ref (``name@production``, ``name:3``, a digest) or path; served as name:version.

    Every file's digest is re-checked on the way out of the store; archived versions are refused.
    """
    with open_registry() as registry:
        found = registry.resolve(ref, verify=True)
    model = load(found.path, allow_env_mismatch=allow_env_mismatch, golden_check=False)
    if found.version is None:
        return Resolved(model)
    return Resolved(model, found.version.name, str(found.version.version))


def run_server(refs: list[str], resolve: Resolver, config: ServerConfig, allow_env_mismatch: bool
               ) -> None:
    import uvicorn

    resolved = [resolve(ref, allow_env_mismatch) for ref in refs]
    service, metrics = build_service([(r.name or r.model.name, r.version or r.model.digest[:12], r.model)
                                      for r in resolved], config)
    app = create_app(service, metrics)
    for served in service.models:
        log.warning("serving %s version %s (%s)", served.name, served.version, served.model.flavor.name)
    uvicorn.run(app, host=config.host, port=config.port, loop="uvloop", http="httptools",
                lifespan="on", access_log=False, log_level="warning")


def serve_command(resolve: Resolver) -> Callable[..., None]:
    """The typer command, bound to the composition root's resolver."""

    @handle_errors
    def serve(
        refs: Annotated[list[str], typer.Argument(metavar="REF...", help="artifact folders or .tar files")],
        host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
        max_batch_size: Annotated[int, typer.Option(help="most rows per model call")] = 64,
        max_batch_delay_ms: Annotated[float, typer.Option(
            help="longest wait for more requests to join a batch, only while others are arriving")] = 2.0,
        max_queue: Annotated[int, typer.Option(help="queued requests per model before 503")] = 1024,
        max_body_bytes: Annotated[int, typer.Option(help="larger bodies get 413")] = 32 * 1024 * 1024,
        request_timeout: Annotated[float, typer.Option(help="seconds before a request gets 504")] = 30.0,
        allow_env_mismatch: Annotated[bool, typer.Option(
            "--allow-env-mismatch", help="serve models packed with other framework versions")] = False,
    ) -> None:
        """Serve models over Open Inference Protocol v2, KServe v1 and MLflow scoring on one port.

        Runs one process (uvicorn with uvloop and httptools); several worker processes
        (--workers) come in a later release.
        """
        try:
            config = ServerConfig(host=host, port=port, max_batch_size=max_batch_size,
                                  max_batch_delay_ms=max_batch_delay_ms, max_queue=max_queue,
                                  max_body_bytes=max_body_bytes, request_timeout_s=request_timeout)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        run_server(refs, resolve, config, allow_env_mismatch)

    return serve
