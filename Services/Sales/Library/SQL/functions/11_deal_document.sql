CREATE OR REPLACE FUNCTION deal_document(d deals) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN (SELECT deal_json(d, s.name, s.probability, deal_lines_json(d)) FROM stages s WHERE s.id = d.stage_id);
