"""The chaos run's ledger checks pass a clean run and see a change applied twice or lost."""

from __future__ import annotations

from devtools.chaos.checks import SubmittedJob
from devtools.chaos.ledger import LedgerRun
from tests.support.jobs import submit_job
from workers import engine


def test_the_ledger_checks_pass_a_clean_run_and_count_what_went_wrong(make_services,
                                                                      db_tenant, db):
    services = make_services(CHUNK_SIZE="25")
    workload = LedgerRun(jobs=4, records=60, customers=3)
    jobs = []
    for submission in workload.submissions():
        job = SubmittedJob(submit_job(services, db_tenant, submission.records,
                                      submission.operation), submission)
        for chunk_no in engine.start_job(services, job.job_id).chunks:
            engine.apply_chunk(services, job.job_id, chunk_no)
        jobs.append(job)

    clean = workload.check(db, db_tenant, jobs)
    assert (clean.jobs, clean.records, clean.ok) == (5, 243, True), clean.problems
    kinds = {job.submission.operation for job in jobs}
    assert kinds == {"cashback", "redeem", "balance-adjustment"}

    # A change nobody reported (appended by hand), and a balance that left its ledger.
    customer = workload.customer_ids()[0]
    db.execute("INSERT INTO points_ledger (tenant_id, customer_id, source, source_id, points,"
               " job_id, record_index) VALUES (%s, %s, 'adjustment', 'by-hand', 5, %s, 9999)",
               (db_tenant, customer, jobs[1].job_id))
    db.execute("UPDATE points_balances SET available = available + 1 WHERE tenant_id = %s"
               " AND customer_id = %s", (db_tenant, workload.customer_ids()[1]))
    hurt = workload.check(db, db_tenant, jobs)
    assert (hurt.applied_twice, hurt.lost, hurt.ok) == (1, 0, False)
    assert {problem.split(":")[0] for problem in hurt.problems} == {
        "ledger row without its outcome", "balance"}
