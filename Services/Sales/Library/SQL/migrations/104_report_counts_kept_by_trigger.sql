-- The stages each deal has been in (sorted, distinct), kept by the service as it
-- moves deals; the funnel counts deals by it.
ALTER TABLE deals ADD COLUMN visited uuid[] NOT NULL DEFAULT '{}';
UPDATE deals d SET visited = coalesce(
    (SELECT array_agg(DISTINCT h.stage_id ORDER BY h.stage_id) FROM deal_stage_history h WHERE h.deal_id = d.id), '{}');

-- Live deals counted by what the funnel and the forecast group them by, so a report
-- at a million deals adds up thousands of rows, not a million. A trigger keeps them
-- in the transaction of every change of a deal.
CREATE TABLE funnel_counts (
    pipeline_id uuid NOT NULL,
    created_on date NOT NULL,
    visited uuid[] NOT NULL,
    status text NOT NULL,
    stage_id uuid NOT NULL,
    currency text NOT NULL,
    deals bigint NOT NULL,
    amount numeric NOT NULL,
    PRIMARY KEY (pipeline_id, created_on, visited, status, stage_id, currency)
);
CREATE TABLE forecast_counts (
    pipeline_id uuid NOT NULL,
    expected_on date,
    owner text,
    currency text NOT NULL,
    stage_id uuid NOT NULL,
    probability integer,
    deals bigint NOT NULL,
    amount numeric NOT NULL,
    CONSTRAINT forecast_counts_key UNIQUE NULLS NOT DISTINCT (pipeline_id, expected_on, owner, currency, stage_id, probability)
);
CREATE INDEX forecast_counts_expected ON forecast_counts (pipeline_id, expected_on);

CREATE FUNCTION count_deal(d deals, sign integer) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO funnel_counts AS f (pipeline_id, created_on, visited, status, stage_id, currency, deals, amount)
    VALUES (d.pipeline_id, (d.created_at AT TIME ZONE 'UTC')::date, d.visited, d.status, d.stage_id, d.currency, sign, sign * d.amount)
    ON CONFLICT (pipeline_id, created_on, visited, status, stage_id, currency)
    DO UPDATE SET deals = f.deals + EXCLUDED.deals, amount = f.amount + EXCLUDED.amount;
    IF d.status = 'open' THEN
        INSERT INTO forecast_counts AS f (pipeline_id, expected_on, owner, currency, stage_id, probability, deals, amount)
        VALUES (d.pipeline_id, d.expected_close_date, d.owner, d.currency, d.stage_id, d.probability, sign, sign * d.amount)
        ON CONFLICT ON CONSTRAINT forecast_counts_key
        DO UPDATE SET deals = f.deals + EXCLUDED.deals, amount = f.amount + EXCLUDED.amount;
    END IF;
END
$$;

CREATE FUNCTION deal_counts() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.deleted_at IS NULL AND NEW.deleted_at IS NULL
        AND (OLD.pipeline_id, OLD.created_at, OLD.visited, OLD.status, OLD.stage_id, OLD.currency, OLD.amount,
             OLD.expected_close_date, OLD.owner, OLD.probability)
        IS NOT DISTINCT FROM (NEW.pipeline_id, NEW.created_at, NEW.visited, NEW.status, NEW.stage_id, NEW.currency,
             NEW.amount, NEW.expected_close_date, NEW.owner, NEW.probability) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL THEN PERFORM count_deal(OLD, -1); END IF;
    IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL THEN PERFORM count_deal(NEW, 1); END IF;
    RETURN NULL;
END
$$;

SELECT count(count_deal(d, 1)) FROM deals d WHERE d.deleted_at IS NULL;
CREATE TRIGGER deals_counted AFTER INSERT OR UPDATE OR DELETE ON deals FOR EACH ROW EXECUTE FUNCTION deal_counts();
