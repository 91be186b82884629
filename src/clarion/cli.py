"""The ``clarion`` command: run the server and manage access keys."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from clarion import logs
from clarion.app import build_app
from clarion.config import Settings, load_settings
from clarion.core import Clarion
from clarion.errors import NotFound

cli = typer.Typer(help="Clarion: a self-hosted engagement engine that speaks the Pinpoint API.")
keys_cli = typer.Typer(help="Create, list and revoke access keys.")
cli.add_typer(keys_cli, name="keys")

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (CLARION_DATA_DIR).")
]


def _open(data_dir: Path | None = None, **overrides: object) -> Clarion:
    clarion = Clarion(load_settings(data_dir=data_dir, **overrides))
    clarion.start()
    return clarion


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (CLARION_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (CLARION_PORT).")] = None,
    data_dir: DataDir = None,
    new_key: Annotated[
        bool, typer.Option("--new-key", help="Create an access key and print how to use it.")
    ] = False,
) -> None:
    """Run the HTTP server until SIGINT or SIGTERM, finishing requests in flight."""
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it to the handler found at start:
    # this one turns it into a clean exit, so supervisors see status 0 after a requested stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    clarion = _open(data_dir, host=host, port=port)
    settings = clarion.settings
    logs.configure(settings.log_level)
    if new_key:
        _print_quickstart(settings, *clarion.keys.create("make-run"))
    config = uvicorn.Config(
        build_app(clarion),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
    )
    uvicorn.Server(config).run()


def _print_quickstart(settings: Settings, access_key_id: str, secret: str) -> None:
    url = f"http://{settings.host}:{settings.port}"
    print(f"Clarion {url}  (data in {settings.data_dir.resolve()})")
    print(f"New access key: {access_key_id}  secret: {secret}")
    print("Try it with boto3:")
    print("  import boto3")
    print(
        f'  pinpoint = boto3.client("pinpoint", endpoint_url="{url}", region_name='
        f'"{settings.region}", aws_access_key_id="{access_key_id}", '
        f'aws_secret_access_key="{secret}")'
    )
    print('  print(pinpoint.create_app(CreateApplicationRequest={"Name": "demo"}))', flush=True)


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


def main() -> None:
    cli()
