CREATE OR REPLACE FUNCTION lead_document(l leads) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', l.id, 'first_name', l.first_name, 'last_name', l.last_name, 'company', l.company,
    'email', l.email, 'phone', l.phone, 'source', l.source, 'campaign_id', l.campaign_id,
    'owner', l.owner, 'notes', l.notes, 'status', l.status, 'disqualify_reason', l.disqualify_reason,
    'create_account', l.create_account, 'deal_id', l.deal_id, 'contact_id', l.contact_id,
    'account_id', l.account_id, 'converted_at', ts(l.converted_at),
    'version', l.version, 'created_at', ts(l.created_at), 'updated_at', ts(l.updated_at),
    'deleted_at', ts(l.deleted_at));
