"""The ``batchq`` command: ``import``, ``status``, ``stop`` and ``results``.

Configuration comes from flags or the environment: ``BATCHQ_URL``, ``BATCHQ_API_KEY`` and
``BATCHQ_SECRET_KEY``. Exit status: 0 when every record was applied, 1 when any failed
(they are in ``FILE.failed.ndjson``) or was never applied (``FILE.unprocessed.ndjson``), 2
for a usage error or a run that could not go on.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from app.catalogue import get_operation
from batchq_cli import importer, uploader
from batchq_cli.client import ApiError, BatchClient, RetryPolicy
from batchq_cli.readers import FORMATS, detect_format

err_console = Console(stderr=True)


class _Size(click.ParamType):
    """A size in bytes: a number, or one with K, M or G (binary: 16M is 16 MiB)."""

    name = "size"
    _UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}

    def convert(self, value, param, ctx) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().upper().removesuffix("B").removesuffix("I")
        unit = text[-1:] if text[-1:] in self._UNITS else ""
        try:
            number = float(text[:len(text) - len(unit)])
        except ValueError:
            self.fail(f"{value!r} is not a size like 500K, 16M or 1G", param, ctx)
        if number < 0:
            self.fail("a size is not negative", param, ctx)
        return int(number * self._UNITS[unit])


SIZE = _Size()


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
@click.option("--multipart-above", default="8M", show_default=True, type=SIZE,
              help="Files larger than this go as one bulk job, a multi-part upload (smaller "
                   "ones as requests of --batch-size records). 0: always.")
@click.option("--part-size", default="16M", show_default=True, type=SIZE,
              help="About how large each part of a multi-part upload is (resume with the "
                   "same size).")
@click.option("--resume", "resume", type=int, metavar="JOBID",
              help="Resume the multi-part upload of JOBID: send only the parts it lacks.")
@click.option("--progress/--no-progress", default=None,
              help="Show progress bars (default: when stderr is a terminal).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def import_file(connect, operation: str, file: Path, fmt: str | None,
                batch_size: int, concurrency: int, max_pending_jobs: int, multipart_above: int,
                part_size: int, resume: int | None, progress: bool | None,
                as_json: bool) -> None:
    """Import FILE (NDJSON, JSON or CSV, any size) as OPERATION, e.g. `customers`."""
    if part_size < 1024:
        raise click.BadParameter("a part is at least 1K", param_hint="--part-size")
    fmt = fmt or detect_format(file)
    known = get_operation(operation)
    schema = known.schema if known else None
    size = file.stat().st_size
    if resume is not None or size > multipart_above:
        run = uploader.Uploader(connect(), operation, file, fmt, part_size, schema=schema)
        with _bars(size, progress) as bars:
            run.progress = bars
            summary = run.run(resume)
        _report_upload(summary, file, as_json)
        return
    run = importer.Importer(connect(), operation, file, fmt, batch_size=batch_size,
                            concurrency=concurrency, max_pending_jobs=max_pending_jobs,
                            schema=schema)
    with _bars(size, progress) as bars:
        run.progress = bars
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


@cli.command()
@click.argument("job_id", type=int)
@click.option("--failed", "failed", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the job's failed records here (NDJSON).")
@click.option("--unprocessed", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the records the job never applied here (NDJSON), as they were sent.")
@click.option("--successful", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the job's applied records here (NDJSON).")
@click.pass_obj
def results(connect, job_id: int, failed: Path | None, unprocessed: Path | None,
            successful: Path | None) -> None:
    """Write the outcomes of job JOB_ID to files, every entry in index order."""
    sides = {side: path for side, path in (("failed", failed), ("unprocessed", unprocessed),
                                           ("successful", successful)) if path}
    if not sides:
        raise click.UsageError("Name at least one file: --failed, --unprocessed, --successful.")
    try:
        counts = uploader.write_entries(connect(), job_id, sides, None)
    except ApiError as error:
        err_console.print(f"[red]{job_id}: {error}")
        sys.exit(1)
    for side, path in sides.items():
        err_console.print(f"{counts.get(side, 0):,} {side} records: "
                          f"{path if counts.get(side) else 'none'}")


def _bars(size: int, progress: bool | None):
    """Return the upload and processing bars (drawn when stderr is a terminal, or asked)."""
    show = err_console.is_terminal if progress is None else progress
    return _Bars(size, show)


class _Bars(importer.Progress):
    """The progress an import reports, drawn as an upload bar and a processing bar."""

    def __init__(self, size: int, show: bool) -> None:
        self._bars = Progress(TextColumn("{task.description:<10}"), BarColumn(),
                              TaskProgressColumn(), TextColumn("{task.fields[detail]}"),
                              TimeElapsedColumn(), console=err_console, disable=not show)
        upload = self._bars.add_task("upload", total=size, detail="")
        processing = self._bars.add_task("processing", total=None, detail="")
        super().__init__(
            uploaded=lambda done: self._bars.update(
                upload, completed=done, detail=f"{done / 1e6:,.1f}/{size / 1e6:,.1f} MB"),
            processed=lambda done, total: self._bars.update(
                processing, completed=done, total=total, detail=f"{done:,}/{total:,} records"),
            note=lambda message: self._bars.console.print(f"[yellow]{message}"))

    def __enter__(self) -> _Bars:
        self._bars.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._bars.__exit__(*exc)


def _report_upload(summary: uploader.UploadSummary, file: Path, as_json: bool) -> None:
    """Print a multi-part import's summary and exit with its status."""
    if as_json:
        click.echo(orjson.dumps(uploader.as_json(summary)).decode())
    else:
        bad = summary.failed or summary.unprocessed or summary.aborted
        colour = "red" if bad else "green"
        err_console.print(f"[{colour}]{uploader.summary_line(summary, file.name)}")
        for label, path in (("failed records and their errors", summary.failed_path),
                            ("records never applied", summary.unprocessed_path)):
            if path:
                err_console.print(f"{label}: {path}")
        if summary.failure_message:
            err_console.print(f"[red]the job failed: {summary.failure_message}")
        if summary.aborted:
            err_console.print(f"[red]stopped early: {summary.aborted}")
    sys.exit(2 if summary.aborted else 1 if summary.failed or summary.unprocessed else 0)


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
