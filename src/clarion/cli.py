"""The ``clarion`` command: run the server, manage access keys, import and export endpoints.

Each command imports the heavy modules it needs (the server, the core, progress bars) itself,
so ``clarion --help`` answers at once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer

from clarion.errors import BadRequest, NotFound

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from clarion.config import Settings
    from clarion.core import Clarion

QUICKSTART_KEY = "make-run"

cli = typer.Typer(help="Clarion: a self-hosted engagement engine that speaks the Pinpoint API.")
keys_cli = typer.Typer(help="Create, list and revoke access keys.")
cli.add_typer(keys_cli, name="keys")

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (CLARION_DATA_DIR).")
]


def _settings(**overrides: object) -> Settings:
    """The settings; a bad one ends the command with one line and status 2, not a traceback."""
    from clarion.config import BadSetting, load_settings

    try:
        return load_settings(**overrides)
    except BadSetting as error:
        print(f"clarion: {error}", file=sys.stderr)
        raise typer.Exit(2) from None


def _open(data_dir: Path | None = None, **overrides: object) -> Clarion:
    from clarion.core import Clarion

    clarion = Clarion(_settings(data_dir=data_dir, **overrides))
    clarion.start()
    return clarion


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (CLARION_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (CLARION_PORT).")] = None,
    data_dir: DataDir = None,
    new_key: Annotated[
        bool,
        typer.Option(
            "--new-key",
            help=f"Print how to connect, with an access key named {QUICKSTART_KEY} that is "
            "created at the first start only.",
        ),
    ] = False,
) -> None:
    """Run the HTTP server until SIGINT or SIGTERM, finishing requests in flight."""
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it to the handler found at start:
    # this one turns it into a clean exit, so supervisors see status 0 after a requested stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    clarion = _open(data_dir, host=host, port=port)

    import uvicorn

    from clarion import logs
    from clarion.app import build_app

    settings = clarion.settings
    logs.configure(settings.log_level)
    if new_key:
        _print_quickstart(clarion)
    _warn_of_loopback_tracking(clarion)
    config = uvicorn.Config(
        build_app(clarion),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
    )
    uvicorn.Server(config).run()


def _print_quickstart(clarion: Clarion) -> None:
    """What ``make run`` shows: where requests go, the key to sign them with, and what the URL
    is for. The key is made at the first start only, so restarts do not pile keys up."""
    settings = clarion.settings
    url = f"http://{settings.host}:{settings.port}"
    print(f"Clarion {url}  (data in {settings.data_dir.resolve()})")
    made = clarion.keys.active_named(QUICKSTART_KEY)
    if made:
        print(
            f"Access key: {made[-1].access_key_id}  (its secret was printed at the first start; "
            f"make another with: {_command()} keys create)"
        )
    else:
        access_key_id, secret = clarion.keys.create(QUICKSTART_KEY)
        print(f"New access key: {access_key_id}  secret: {secret}")
        print("Try it with boto3:")
        print("  import boto3")
        print(
            f'  pinpoint = boto3.client("pinpoint", endpoint_url="{url}", region_name='
            f'"{settings.region}", aws_access_key_id="{access_key_id}", '
            f'aws_secret_access_key="{secret}")'
        )
        print('  print(pinpoint.create_app(CreateApplicationRequest={"Name": "demo"}))')
    print(
        "The URL is the Pinpoint API endpoint for AWS SDKs, which sign each request with a key; "
        'a browser opening it gets 403 "Missing Authentication Token".'
    )
    print(f"To check the server in a browser, open {url}/healthz", flush=True)


def _warn_of_loopback_tracking(clarion: Clarion) -> None:
    """Tracking links at a loopback address work only on this machine: say so at start, before
    e-mails with dead links go out."""
    from clarion.outbound import is_loopback

    if not clarion.settings.public_url or is_loopback(urlsplit(clarion.public_url).hostname or ""):
        logging.getLogger(__name__).warning(
            "Open and click tracking links in e-mails will point at %s, which recipients cannot "
            "reach: set CLARION_PUBLIC_URL to the address they reach this server at",
            clarion.public_url,
        )


def _command() -> str:
    """This program as the user ran it (``.venv/bin/clarion`` under make), to paste again."""
    return sys.argv[0] if Path(sys.argv[0]).name == "clarion" else "clarion"


@keys_cli.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="A label to recognise the key by.")] = "default",
    app: Annotated[
        list[str] | None, typer.Option("--app", help="Limit the key to this app (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Create an access key. Its secret is shown now and never again."""
    clarion = _open(data_dir)
    access_key_id, secret = clarion.keys.create(name, app or [])
    if as_json:
        print(json.dumps({"AccessKeyId": access_key_id, "SecretAccessKey": secret}))
    else:
        print(f"AccessKeyId:     {access_key_id}\nSecretAccessKey: {secret}")
    clarion.close()


@keys_cli.command("list")
def keys_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDir = None,
) -> None:
    """List access keys (never their secrets)."""
    from rich.console import Console
    from rich.table import Table

    clarion = _open(data_dir)
    records = clarion.keys.all()
    clarion.close()
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "AccessKeyId": r.access_key_id,
                        "Name": r.name,
                        "CreatedAt": r.created_at,
                        "RevokedAt": r.revoked_at,
                        "Apps": list(r.app_ids),
                    }
                    for r in records
                ]
            )
        )
        return
    table = Table("AccessKeyId", "Name", "Created", "Revoked", "Apps")
    for r in records:
        table.add_row(
            r.access_key_id, r.name, r.created_at, r.revoked_at or "", ", ".join(r.app_ids) or "all"
        )
    Console().print(table)


@keys_cli.command("revoke")
def keys_revoke(access_key_id: str, data_dir: DataDir = None) -> None:
    """Revoke a key: requests signed with it are refused from now on."""
    clarion = _open(data_dir)
    try:
        clarion.keys.revoke(access_key_id)
    except NotFound as error:
        print(error.message)
        raise typer.Exit(1) from None
    finally:
        clarion.close()
    print(f"Revoked {access_key_id}")


@cli.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="A CSV or newline-delimited JSON file (or .gz).")],
    app: Annotated[str, typer.Option("--app", help="The app (project) id.")],
    segment: Annotated[
        str | None, typer.Option("--segment", help="Also make an IMPORT segment of this name.")
    ] = None,
    file_format: Annotated[
        str | None, typer.Option("--format", help="CSV or JSON; by default from the file name.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Import endpoints from a local file as an import job, showing its progress."""
    chosen = (file_format or _format_of(file)).upper()
    if chosen not in ("CSV", "JSON"):
        print(f"--format must be CSV or JSON; got {chosen!r}")
        raise typer.Exit(2)
    if not file.is_file():
        print(f"{file} is not a file")
        raise typer.Exit(2)
    clarion = _open(data_dir)
    request = {
        "Format": chosen,
        "S3Url": file.resolve().as_uri(),
        "RoleArn": f"arn:aws:iam::{clarion.settings.account_id}:role/clarion-cli",
        "RegisterEndpoints": True,
        "DefineSegment": segment is not None,
        **({"SegmentName": segment} if segment else {}),
    }
    try:
        _, job = clarion.jobs.create_import(app, request, trusted=True)
        with _progress(f"Importing {file.name}", _row_count(file)) as advance:
            result = clarion.jobs.run(job, trusted=True, progress=advance)
    except (NotFound, BadRequest) as error:
        print(error.message)
        raise typer.Exit(1) from None
    finally:
        clarion.close()
    _print_job(result)
    if result["JobStatus"] != "COMPLETED":
        raise typer.Exit(1)


@cli.command("export")
def export_file(
    path: Annotated[Path, typer.Argument(help="Where to write; gzip when it ends in .gz.")],
    app: Annotated[str, typer.Option("--app", help="The app (project) id.")],
    segment: Annotated[
        str | None, typer.Option("--segment", help="Only this segment's endpoints.")
    ] = None,
    version: Annotated[
        int | None, typer.Option("--segment-version", help="The segment at this version.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Export endpoints as newline-delimited JSON, Pinpoint's export format."""
    import gzip

    from clarion.jobs.runs import export_lines

    clarion = _open(data_dir)
    try:
        if not clarion.apps.exists(app):
            raise NotFound(f"App not found: {app}")
        where = clarion.jobs.runs.where(app, segment, version)
        total = clarion.endpoint_store.count_members(app, where)
        opener = gzip.open if path.suffix == ".gz" else open
        written = 0
        with _progress(f"Exporting to {path.name}", total) as advance, opener(path, "wb") as out:
            after = -1
            while batch := clarion.endpoint_store.members_after(app, where, after, 10_000):
                out.writelines(export_lines(app, (stored for _, stored in batch)))
                after = batch[-1][0]
                written += len(batch)
                advance(written)
    except (NotFound, BadRequest) as error:
        print(error.message)
        raise typer.Exit(1) from None
    finally:
        clarion.close()
    print(f"Exported {written} endpoints to {path}")


def _format_of(file: Path) -> str:
    suffixes = [s.lower() for s in file.suffixes if s.lower() != ".gz"]
    return "CSV" if suffixes and suffixes[-1] == ".csv" else "JSON"


def _row_count(file: Path) -> int | None:
    """Lines in a plain file, for the progress bar's total (unknown for gzip)."""
    if file.suffix.lower() == ".gz":
        return None
    with file.open("rb") as stream:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
    return lines - 1 if _format_of(file) == "CSV" else lines


@contextlib.contextmanager
def _progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=False,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)


def _print_job(job: dict[str, Any]) -> None:
    print(
        f"{job['JobStatus']}: {job['TotalProcessed']} rows processed, {job['TotalFailures']} "
        f"refused, {job['FailedPieces']} of {job['TotalPieces']} files failed"
    )
    for failure in job["Failures"]:
        print(f"  {failure}")
    if job["Definition"].get("SegmentId"):
        print(f"Segment: {job['Definition']['SegmentId']}")


def main() -> None:
    cli()
