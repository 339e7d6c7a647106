CREATE OR REPLACE FUNCTION interaction_document(i interactions) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', i.id, 'contact_id', i.contact_id, 'channel', i.channel, 'direction', i.direction,
    'occurred_at', ts(i.occurred_at), 'subject', i.subject, 'notes', i.notes, 'outcome', i.outcome,
    'recorded_by', i.recorded_by, 'deal_id', i.deal_id, 'ticket_id', i.ticket_id,
    'order_id', i.order_id, 'campaign_id', i.campaign_id, 'created_at', ts(i.created_at));
