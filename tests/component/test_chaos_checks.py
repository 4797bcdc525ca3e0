"""The chaos run's checks see every kind of failure they count (a silent checker proves nothing)."""

from __future__ import annotations

from devtools.chaos.checks import SubmittedJob
from devtools.chaos.customers import CustomerImport, is_invalid
from tests.support.jobs import submit_job
from workers import engine


def test_the_checks_pass_a_clean_run_and_count_lost_twice_and_stuck(make_services,
                                                                    db_tenant, db):
    services = make_services(CHUNK_SIZE="10")
    workload = CustomerImport(jobs=3, records=30)
    jobs = [SubmittedJob(submit_job(services, db_tenant, s.records), s)
            for s in workload.submissions()]
    for job in jobs[:2]:  # the third stays queued
        for chunk_no in engine.start_job(services, job.job_id).chunks:
            engine.apply_chunk(services, job.job_id, chunk_no)

    clean = workload.check(db, db_tenant, jobs[:2])
    assert (clean.jobs, clean.records, clean.ok) == (2, 60, True), clean.problems
    assert sum(is_invalid(i) for i in range(30)) == 1  # each job has one invalid record

    first, second = jobs[0].submission.records, jobs[1].submission.records
    db.execute("DELETE FROM customers WHERE tenant_id = %s AND customer_id = %s",
               (db_tenant, first[3]["customerId"]))
    db.execute("UPDATE customers SET updated_at = updated_at + interval '1 second'"
               " WHERE tenant_id = %s AND customer_id = %s", (db_tenant, second[4]["customerId"]))
    db.execute("UPDATE customers SET profile = profile || '{\"name\": \"other\"}'"
               " WHERE tenant_id = %s AND customer_id = %s", (db_tenant, second[5]["customerId"]))
    hurt = workload.check(db, db_tenant, jobs)
    assert (hurt.lost, hurt.applied_twice, hurt.stuck, hurt.ok) == (2, 1, 1, False)
    assert {problem.split(":")[0] for problem in hurt.problems} == {
        "lost", "updated after creation", "stuck"}
