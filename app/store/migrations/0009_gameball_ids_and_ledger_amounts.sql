-- Gameball's clients read a customer's `gameballId`: a number of the service's own, given
-- once and never reused. An identity column: customers stored already get theirs now, new
-- ones as they are created. Capped at 2^53 - 1, like job ids, so JavaScript holds it exactly;
-- the sequence never cycles, so no number comes back. Numbers are not dense (an upsert that
-- updates a customer draws one and drops it) and not secret: a customer is found by its
-- tenant and customerId, never by this number. No index: nothing looks customers up by it.
ALTER TABLE customers
    ADD COLUMN gameball_id bigint GENERATED ALWAYS AS IDENTITY (MAXVALUE 9007199254740991);

-- The money a ledger row was for, where a record gave money: an order's totalPaid, a
-- cashback's amount, a redemption's amount. NULL for points given as points (adjustments,
-- redemptions in points) and for rows written before this column (not recorded then).
-- Adding a column rewrites no row, so the append-only trigger has nothing to refuse.
ALTER TABLE points_ledger ADD COLUMN amount numeric CHECK (amount >= 0);
