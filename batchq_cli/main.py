"""The ``batchq`` command: ``import``, ``status`` and ``stop``.

Configuration comes from flags or the environment: ``BATCHQ_URL``, ``BATCHQ_API_KEY`` and
``BATCHQ_SECRET_KEY``. Exit status: 0 when every record was applied, 1 when any failed
(they are in ``FILE.failed.ndjson``), 2 for a usage error or a run that could not go on.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from batchq_cli import importer
from batchq_cli.client import ApiError, BatchClient, RetryPolicy
from batchq_cli.readers import FORMATS, detect_format

err_console = Console(stderr=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", envvar="BATCHQ_URL", default="http://localhost:8000", show_default=True,
              help="The service's base URL (BATCHQ_URL).")
@click.option("--api-key", envvar="BATCHQ_API_KEY", help="Your APIKey (BATCHQ_API_KEY).")
@click.option("--secret-key", envvar="BATCHQ_SECRET_KEY",
              help="Your SecretKey (BATCHQ_SECRET_KEY).")
@click.option("--retries", default=8, show_default=True, type=click.IntRange(1, 100),
              help="Attempts per request on 429, 503 or a lost connection.")
@click.pass_context
def cli(ctx: click.Context, url: str, api_key: str | None, secret_key: str | None,
        retries: int) -> None:
    """Import records into the batch API and watch or stop its jobs."""

    def connect() -> BatchClient:
        # Checked here, not by click, so that `batchq import --help` needs no keys.
        if not api_key or not secret_key:
            raise click.UsageError("Give your keys: --api-key and --secret-key, or "
                                   "BATCHQ_API_KEY and BATCHQ_SECRET_KEY.")
        client = BatchClient(url, api_key, secret_key, retry=RetryPolicy(attempts=retries),
                             on_retry=lambda message: err_console.print(f"[yellow]{message}"))
        ctx.call_on_close(client.close)
        return client

    ctx.obj = connect


@cli.command("import")
@click.argument("operation")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="The file's format; by default from its suffix, else from its content.")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 1000),
              help="Records per request.")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 32),
              help="Requests sent at once.")
@click.option("--max-pending-jobs", default=50, show_default=True, type=click.IntRange(1),
              help="Unfinished jobs before reading waits (bounds memory).")
@click.option("--progress/--no-progress", default=None,
              help="Show progress bars (default: when stderr is a terminal).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def import_file(connect, operation: str, file: Path, fmt: str | None,
                batch_size: int, concurrency: int, max_pending_jobs: int,
                progress: bool | None, as_json: bool) -> None:
    """Import FILE (NDJSON, JSON or CSV, any size) as OPERATION, e.g. `customers`."""
    run = importer.Importer(connect(), operation, file, fmt or detect_format(file),
                            batch_size=batch_size, concurrency=concurrency,
                            max_pending_jobs=max_pending_jobs)
    show = err_console.is_terminal if progress is None else progress
    size = file.stat().st_size
    with Progress(TextColumn("{task.description:<10}"), BarColumn(), TaskProgressColumn(),
                  TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=err_console,
                  disable=not show) as bars:
        upload = bars.add_task("upload", total=size, detail="")
        processing = bars.add_task("processing", total=None, detail="")
        run.progress = importer.Progress(
            uploaded=lambda done: bars.update(
                upload, completed=done, detail=f"{done / 1e6:,.1f}/{size / 1e6:,.1f} MB"),
            processed=lambda done, total: bars.update(
                processing, completed=done, total=total, detail=f"{done:,}/{total:,} records"),
            note=lambda message: bars.console.print(f"[yellow]{message}"))
        summary = run.run()
    if as_json:
        click.echo(orjson.dumps(importer.as_json(summary)).decode())
    else:
        colour = "red" if summary.failed or summary.aborted else "green"
        err_console.print(f"[{colour}]{importer.summary_line(summary, file.name)}")
        if summary.failed_path:
            err_console.print(f"failed records and their errors: {summary.failed_path}")
        if summary.aborted:
            err_console.print(f"[red]stopped early: {summary.aborted}")
    sys.exit(2 if summary.aborted else 1 if summary.failed else 0)


@cli.command()
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole status body.")
@click.pass_obj
def status(connect, job_id: str, as_json: bool) -> None:
    """Show the status and counts of job JOB_ID."""
    _show(_call(connect().job, job_id), as_json)


@cli.command()
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole status body.")
@click.pass_obj
def stop(connect, job_id: str, as_json: bool) -> None:
    """Stop job JOB_ID: nothing more is applied; its counts are final."""
    _show(_call(connect().stop, job_id), as_json)


def _call(function, job_id: str) -> dict:
    try:
        return function(job_id)
    except ApiError as error:
        err_console.print(f"[red]{job_id}: {error}")
        sys.exit(1)


def _show(body: dict, as_json: bool) -> None:
    if as_json:
        click.echo(orjson.dumps(body).decode())
        return
    click.echo(f"{body['jobId']}  {body['status']}  {body['finishedCount']:,} applied, "
               f"{body['errorCount']:,} failed of {body['totalCount']:,}  "
               f"(created {body['createdAt']}, finished {body['finishedAt'] or '-'})")
    if body.get("failureMessage"):
        click.echo(f"failure: {body['failureMessage']}")
