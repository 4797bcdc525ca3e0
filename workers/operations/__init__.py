"""How each batch operation applies a chunk of valid records, one module per operation.

What an operation *is* (its name, title, record schema, unique and key fields) is the
catalogue's (``app.catalogue``); what is here is its apply step: a function that applies a
chunk of valid records set-based in the chunk's transaction and returns one outcome per
record. The job machinery (chunking, stop, retries, progress) is the same for all. An apply
step gets a ``ChunkContext`` (tenant, job, settings) rather than loose arguments, so a step
needing more of its surroundings changes no other signature. It also holds what is read
once per chunk, however often the chunk's records are applied.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import psycopg

from app.config import Config
from app.error_codes import ErrorCode
from app.store.points_rules import PointsRule, default_rule, tenant_rule


# ValidRecord and Outcome are named tuples, not frozen dataclasses: a chunk makes one of
# each per record, and a named tuple is built in half the time.
class ValidRecord(NamedTuple):
    """A record that passed its schema: its position in the request and its loaded data."""

    index: int
    data: dict[str, Any]


class Outcome(NamedTuple):
    """What happened to one record: applied (``ok``) or not, with its message.

    ``details`` are extra fields of a successful record's entry (e.g. the balance a balance
    inquiry read), added after the seed's ``customerId``, ``index`` and ``message``; a failed
    record's entry carries its error ``code`` (``app.error_codes``).
    """

    index: int
    ok: bool
    message: str
    details: dict[str, Any] | None = None
    code: ErrorCode | None = None

    @classmethod
    def failed(cls, index: int, code: ErrorCode, message: str) -> Outcome:
        """Return the outcome of a record that failed with ``code``."""
        return cls(index, False, message, code=code)


@dataclass(frozen=True)
class ChunkContext:
    """What a chunk is applied for: the tenant, the job, and the process's settings."""

    tenant_id: int
    job_id: int
    config: Config
    _points_rule: PointsRule | None = field(default=None, init=False, repr=False,
                                            compare=False)

    def points_rule(self, conn: psycopg.Connection) -> PointsRule:
        """Return the tenant's points rule, read from the database on the first call only."""
        # A chunk whose set-based apply fails is applied again one record at a time: one
        # read serves every attempt, and all the chunk's records get the same rule.
        if self._points_rule is None:
            object.__setattr__(self, "_points_rule", tenant_rule(
                conn, self.tenant_id, default_rule(self.config)))
        return self._points_rule


ApplyChunk = Callable[[psycopg.Connection, ChunkContext, Sequence[ValidRecord]], list[Outcome]]


APPLY: dict[str, ApplyChunk] = {}


def applies(name: str) -> Callable[[ApplyChunk], ApplyChunk]:
    """Register the decorated function as the apply step of catalogue operation ``name``."""
    def register(apply: ApplyChunk) -> ApplyChunk:
        APPLY[name] = apply
        return apply
    return register


def _import_operations() -> None:
    """Import every module of this package: each registers its apply step when imported.

    So adding an operation is adding its module; nothing else names it. Modules whose
    name starts with ``_`` are helpers, not operations.
    """
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


_import_operations()
