CREATE OR REPLACE FUNCTION deal_json(d deals, stage_name text, stage_probability integer, lines jsonb) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', d.id, 'title', d.title, 'contact_id', d.contact_id, 'account_id', d.account_id,
    'pipeline_id', d.pipeline_id, 'stage_id', d.stage_id, 'stage_name', stage_name,
    'amount', jsonb_build_object('amount', money_text(d.amount), 'currency', d.currency),
    'probability', CASE d.status WHEN 'won' THEN 100 WHEN 'lost' THEN 0 ELSE coalesce(d.probability, stage_probability) END,
    'probability_is_stage_default', d.probability IS NULL,
    'expected_close_date', d.expected_close_date, 'owner', d.owner,
    'source_campaign_id', d.source_campaign_id, 'lead_id', d.lead_id,
    'status', d.status, 'lost_reason', d.lost_reason, 'close_comment', d.close_comment,
    'closed_at', ts(d.closed_at), 'stage_entered_at', ts(d.stage_entered_at), 'tags', to_jsonb(d.tags),
    'price_list_id', d.price_list_id,
    'lines', lines,
    'version', d.version, 'created_at', ts(d.created_at), 'updated_at', ts(d.updated_at),
    'deleted_at', ts(d.deleted_at));
