"""Live job progress in Redis: counters bumped once per committed chunk.

PostgreSQL holds the truth (each chunk row's counts); Redis holds a running sum so that a
job's status can be read without summing its chunks. Each bump is guarded by the chunk's
number in a set, so a chunk delivered twice is counted once. When the counters are gone
(Redis flushed or restarted) the next bump finds them missing, and the caller rebuilds
them from PostgreSQL; a rebuild writes only if nobody rebuilt first, so two racing
rebuilds cannot double-count either.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis

# KEYS: counters hash, counted-chunks hash. ARGV: chunk_no, finished, errors, ttl.
# Returns 1 counted now, 0 counted before, -1 counters missing (rebuild them first).
_ADD_CHUNK = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local counted = 0
if redis.call('HSETNX', KEYS[2], ARGV[1], 1) == 1 then
  redis.call('HINCRBY', KEYS[1], 'finished', ARGV[2])
  redis.call('HINCRBY', KEYS[1], 'errors', ARGV[3])
  counted = 1
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return counted
"""

# KEYS: counters hash, counted-chunks hash. ARGV: ttl, finished, errors, chunk_no...
# Sets the counters and their chunk markers only if the counters do not exist.
_REBUILD = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'finished', ARGV[2], 'errors', ARGV[3])
for i = 4, #ARGV do redis.call('HSET', KEYS[2], ARGV[i], 1) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
if #ARGV >= 4 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
return 1
"""


class ProgressStore:
    """Per-job live counters (records finished and failed) in Redis."""

    def __init__(self, client: redis.Redis, *, ttl_seconds: int) -> None:
        self.client = client
        self.ttl = ttl_seconds
        self._add_chunk = client.register_script(_ADD_CHUNK)
        self._rebuild = client.register_script(_REBUILD)

    @staticmethod
    def _keys(job_id: int) -> list[str]:
        # One hash tag, so both keys live on the same Redis Cluster slot.
        return [f"batchq:{{{job_id}}}:progress", f"batchq:{{{job_id}}}:chunks"]

    def add_chunk(self, job_id: int, chunk_no: int, finished: int, errors: int) -> int:
        """Count a committed chunk once: 1 counted now, 0 before, -1 counters missing."""
        return int(self._add_chunk(keys=self._keys(job_id),
                                   args=[chunk_no, finished, errors, self.ttl]))

    def rebuild(self, job_id: int, done_chunks: Iterable[tuple[int, int, int]]) -> bool:
        """Set the counters from (chunk_no, finished, errors) rows unless they exist."""
        chunks = list(done_chunks)
        args = [self.ttl, sum(c[1] for c in chunks), sum(c[2] for c in chunks)]
        args += [c[0] for c in chunks]
        return bool(self._rebuild(keys=self._keys(job_id), args=args))

    def counts(self, job_id: int) -> tuple[int, int] | None:
        """Return (finished, errors), or None if Redis has no counters for the job."""
        finished, errors = self.client.hmget(self._keys(job_id)[0], "finished", "errors")
        if finished is None or errors is None:
            return None
        return int(finished), int(errors)

    def forget(self, job_id: int) -> None:
        """Drop the job's counters (its final figures are in PostgreSQL)."""
        self.client.delete(*self._keys(job_id))
