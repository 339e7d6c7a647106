-- Keeps closed_counts and lost_counts (migration 108) in the transaction of every change of a
-- deal: a closed deal is counted on the day it closed, and uncounted when it is reopened,
-- deleted or changed. The trigger is declared here with its function, so it never names a
-- function that does not exist yet.
CREATE OR REPLACE FUNCTION closed_deal_counts() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    d deals;
    sign integer;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.deleted_at IS NULL AND NEW.deleted_at IS NULL
        AND (OLD.pipeline_id, OLD.created_at, OLD.status, OLD.closed_at, OLD.owner, OLD.currency, OLD.amount, OLD.lost_reason)
        IS NOT DISTINCT FROM (NEW.pipeline_id, NEW.created_at, NEW.status, NEW.closed_at, NEW.owner, NEW.currency, NEW.amount, NEW.lost_reason) THEN
        RETURN NULL;
    END IF;
    -- The row as it was goes out of the counts, the row as it is comes in: two statements, as
    -- both may fall on one key.
    FOREACH sign IN ARRAY ARRAY[-1, 1] LOOP
        IF sign = -1 THEN
            CONTINUE WHEN TG_OP = 'INSERT';
            d := OLD;
        ELSE
            CONTINUE WHEN TG_OP = 'DELETE';
            d := NEW;
        END IF;
        CONTINUE WHEN d.deleted_at IS NOT NULL OR d.status = 'open' OR d.closed_at IS NULL;
        INSERT INTO closed_counts AS f (pipeline_id, closed_on, owner, status, currency, deals, amount, cycle_seconds)
        VALUES (d.pipeline_id, (d.closed_at AT TIME ZONE 'UTC')::date, d.owner, d.status, d.currency, sign, sign * d.amount,
            sign * extract(epoch FROM d.closed_at - d.created_at))
        ON CONFLICT ON CONSTRAINT closed_counts_key
        DO UPDATE SET deals = f.deals + EXCLUDED.deals, amount = f.amount + EXCLUDED.amount,
            cycle_seconds = f.cycle_seconds + EXCLUDED.cycle_seconds;
        IF d.status = 'lost' THEN
            INSERT INTO lost_counts AS f (pipeline_id, closed_on, lost_reason, currency, deals, amount)
            VALUES (d.pipeline_id, (d.closed_at AT TIME ZONE 'UTC')::date, d.lost_reason, d.currency, sign, sign * d.amount)
            ON CONFLICT ON CONSTRAINT lost_counts_key
            DO UPDATE SET deals = f.deals + EXCLUDED.deals, amount = f.amount + EXCLUDED.amount;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER deals_closed_counted AFTER INSERT OR UPDATE OR DELETE ON deals
    FOR EACH ROW EXECUTE FUNCTION closed_deal_counts();
