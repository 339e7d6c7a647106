CREATE OR REPLACE FUNCTION count_deal(d deals, sign integer) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
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
