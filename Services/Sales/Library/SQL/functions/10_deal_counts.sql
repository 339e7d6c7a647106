CREATE OR REPLACE FUNCTION deal_counts() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
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
