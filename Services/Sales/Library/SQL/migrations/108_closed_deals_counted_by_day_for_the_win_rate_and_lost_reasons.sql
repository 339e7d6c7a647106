-- Closed deals counted by the day they closed (UTC), as the win rate by owner and the lost
-- reasons group them: at a million deals the dashboards add up a few thousand rows instead of
-- reading every closed deal. The trigger that keeps them (functions/13_closed_deal_counts.sql)
-- is applied in the same transaction, after this count of the deals closed so far.
-- No deal closes or reopens between this count and the trigger (a replica still running the old
-- build would otherwise change one that neither sees); reads go on.
LOCK TABLE deals IN SHARE ROW EXCLUSIVE MODE;
CREATE TABLE closed_counts (
    pipeline_id uuid NOT NULL,
    closed_on date NOT NULL,
    owner text,
    status text NOT NULL,
    currency text NOT NULL,
    deals bigint NOT NULL,
    amount numeric NOT NULL,
    cycle_seconds numeric NOT NULL,
    CONSTRAINT closed_counts_key UNIQUE NULLS NOT DISTINCT (pipeline_id, closed_on, owner, status, currency)
);
CREATE INDEX closed_counts_closed ON closed_counts (closed_on);
CREATE TABLE lost_counts (
    pipeline_id uuid NOT NULL,
    closed_on date NOT NULL,
    lost_reason text,
    currency text NOT NULL,
    deals bigint NOT NULL,
    amount numeric NOT NULL,
    CONSTRAINT lost_counts_key UNIQUE NULLS NOT DISTINCT (pipeline_id, closed_on, lost_reason, currency)
);
CREATE INDEX lost_counts_closed ON lost_counts (closed_on);

INSERT INTO closed_counts (pipeline_id, closed_on, owner, status, currency, deals, amount, cycle_seconds)
SELECT pipeline_id, (closed_at AT TIME ZONE 'UTC')::date, owner, status, currency, count(*), sum(amount),
    sum(extract(epoch FROM closed_at - created_at))
FROM deals WHERE deleted_at IS NULL AND status <> 'open' AND closed_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5;
INSERT INTO lost_counts (pipeline_id, closed_on, lost_reason, currency, deals, amount)
SELECT pipeline_id, (closed_at AT TIME ZONE 'UTC')::date, lost_reason, currency, count(*), sum(amount)
FROM deals WHERE deleted_at IS NULL AND status = 'lost' AND closed_at IS NOT NULL GROUP BY 1, 2, 3, 4;
