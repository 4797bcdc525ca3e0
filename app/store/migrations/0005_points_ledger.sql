-- The other batch operations: orders, events, and the points ledger with its balances.

-- A tenant's points rule; a tenant without a row uses DEFAULT_EARNING_RATE and
-- DEFAULT_REDEMPTION_RATE. Rates are points per currency unit.
CREATE TABLE points_rules (
    tenant_id        bigint PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    earning_rate     numeric NOT NULL CHECK (earning_rate >= 0),
    redemption_rate  numeric NOT NULL CHECK (redemption_rate > 0),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    tenant_id      bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    order_id       text NOT NULL,
    customer_id    text NOT NULL,
    order_date     timestamptz NOT NULL,
    total_paid     numeric NOT NULL CHECK (total_paid >= 0),
    details        jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, order_id)
);
CREATE INDEX orders_customer ON orders (tenant_id, customer_id);

-- One row per event of a record: (job, record, name) identifies it, so storing a record's
-- events twice stores them once.
CREATE TABLE customer_events (
    tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    customer_id   text NOT NULL,
    event_name    text NOT NULL,
    metadata      jsonb NOT NULL,
    job_id        text NOT NULL,
    record_index  integer NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, record_index, event_name)
);
CREATE INDEX customer_events_customer ON customer_events (tenant_id, customer_id, created_at);

-- Every change of a balance, for ever: rows are only ever added. (tenant, source,
-- source_id) is unique, so an order, a cashback or a redemption changes a balance once
-- however often it is sent. No ON DELETE CASCADE: the ledger outlives nothing it records.
CREATE TABLE points_ledger (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     bigint NOT NULL REFERENCES tenants (id),
    customer_id   text NOT NULL,
    source        text NOT NULL CHECK (source IN ('order', 'cashback', 'redemption', 'adjustment')),
    source_id     text NOT NULL,
    points        bigint NOT NULL,
    reason        text,
    occurred_at   timestamptz,
    job_id        text NOT NULL,
    record_index  integer NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, source, source_id)
);
CREATE INDEX points_ledger_customer ON points_ledger (tenant_id, customer_id, id);

CREATE FUNCTION points_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'points_ledger is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER points_ledger_append_only BEFORE UPDATE OR DELETE ON points_ledger
    FOR EACH ROW EXECUTE FUNCTION points_ledger_append_only();
CREATE TRIGGER points_ledger_no_truncate BEFORE TRUNCATE ON points_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION points_ledger_append_only();

-- The balance derived from the ledger, kept in the same transaction as each ledger row:
-- the row every change of a customer's points locks first, and the CHECK that no bug can
-- take below zero. pending stays 0 until holds are supported.
CREATE TABLE points_balances (
    tenant_id    bigint NOT NULL REFERENCES tenants (id),
    customer_id  text NOT NULL,
    available    bigint NOT NULL DEFAULT 0 CHECK (available >= 0),
    pending      bigint NOT NULL DEFAULT 0 CHECK (pending >= 0),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, customer_id)
);
