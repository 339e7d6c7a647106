CREATE OR REPLACE FUNCTION activity_document(a activities) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', a.id, 'kind', a.kind, 'subject', a.subject, 'notes', a.notes, 'due_at', ts(a.due_at),
    'duration_minutes', a.duration_minutes, 'owner', a.owner, 'contact_id', a.contact_id, 'deal_id', a.deal_id,
    'lead_id', a.lead_id, 'call_list_id', a.call_list_id, 'done', a.done, 'done_at', ts(a.done_at),
    'outcome', a.outcome, 'overdue', NOT a.done AND a.due_at < now(),
    'version', a.version, 'created_at', ts(a.created_at), 'updated_at', ts(a.updated_at),
    'deleted_at', ts(a.deleted_at));
