"""The batch operations, each one module registered here by its URL name.

An operation says how its records are validated (a marshmallow schema), which field must
be unique within one request, and how a chunk of valid records is applied in the chunk's
transaction. The job machinery (chunking, stop, retries, progress) is the same for all.
An operation's ``apply`` gets a ``ChunkContext`` (tenant, job, settings) rather than loose
arguments, so an operation needing more of its surroundings changes no other signature.
It also holds what is read once per chunk, however often the chunk's records are applied.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

import psycopg
from marshmallow import Schema

from app.points_rules import PointsRule, tenant_rule
from schemas.fastpath import FastLoader

if TYPE_CHECKING:
    from app.config import Config


# ValidRecord and Outcome are named tuples, not frozen dataclasses: a chunk makes one of
# each per record, and a named tuple is built in half the time.
class ValidRecord(NamedTuple):
    """A record that passed its schema: its position in the request and its loaded data."""

    index: int
    data: dict[str, Any]


class Outcome(NamedTuple):
    """What happened to one record: applied (``ok``) or not, with its message.

    ``details`` are extra fields of a successful record's entry (e.g. the balance a balance
    inquiry read), added after the seed's ``customerId``, ``index`` and ``message``.
    """

    index: int
    ok: bool
    message: str
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class ChunkContext:
    """What a chunk is applied for: the tenant, the job, and the process's settings."""

    tenant_id: int
    job_id: str
    config: Config
    _points_rule: PointsRule | None = field(default=None, init=False, repr=False,
                                            compare=False)

    def points_rule(self, conn: psycopg.Connection) -> PointsRule:
        """Return the tenant's points rule, read from the database on the first call only."""
        # A chunk whose set-based apply fails is applied again one record at a time: one
        # read serves every attempt, and all the chunk's records get the same rule.
        if self._points_rule is None:
            object.__setattr__(self, "_points_rule", tenant_rule(
                conn, self.tenant_id, self.config.default_points_rule()))
        return self._points_rule


ApplyChunk = Callable[[psycopg.Connection, ChunkContext, Sequence[ValidRecord]], list[Outcome]]


@dataclass(frozen=True)
class Operation:
    """A kind of batch job."""

    name: str                 # the URL segment: POST /batch/<name>
    title: str                # the status body's "operation"
    schema: Schema            # validates one record
    apply: ApplyChunk         # applies valid records, set-based, in the caller's transaction
    unique_field: str | None  # a field no two records of one request may share
    key_field: str = "customerId"  # reported with each record's outcome
    # For clients (README, GET /batch/operations): what an unknown customerId does, and
    # what makes a record apply at most once.
    unknown_customer: str = "The customer is created."
    idempotency_key: str = "none: applying a record again gives the same result"

    @cached_property
    def _fast(self) -> FastLoader:
        return FastLoader(self.schema)

    def load(self, record: Any) -> dict[str, Any]:
        """Validate one record with the schema (fast path first); raise ValidationError."""
        return self._fast.load_or_raise(record)


REGISTRY: dict[str, Operation] = {}


def register(operation: Operation) -> Operation:
    """Make ``operation`` available under its name."""
    REGISTRY[operation.name] = operation
    return operation


def get_operation(name: str) -> Operation | None:
    """Return the operation called ``name``, or None."""
    return REGISTRY.get(name)


def title_of(name: str) -> str:
    """Return the display title of operation ``name`` (the name itself if unknown)."""
    operation = REGISTRY.get(name)
    return operation.title if operation else name


def _import_operations() -> None:
    """Import every module of this package: each registers its operation when imported.

    So adding an operation is adding its module; nothing else names it. Modules whose
    name starts with ``_`` are helpers, not operations.
    """
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


_import_operations()
