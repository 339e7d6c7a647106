CREATE OR REPLACE FUNCTION contact_document(c contacts) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', c.id, 'first_name', nullif(c.first_name, ''), 'last_name', nullif(c.last_name, ''),
    'emails', c.emails, 'phones', c.phones, 'position', c.position,
    'account_id', c.account_id, 'company', c.company, 'address', nullif(c.address, '{}'),
    'preferred_language', c.preferred_language, 'lead_source', c.lead_source,
    'purchase_purpose', c.purchase_purpose, 'buying_priorities', to_jsonb(c.buying_priorities),
    'payment_method', c.payment_method, 'customer_type', c.customer_type, 'consent', c.consent,
    'tags', to_jsonb(c.tags), 'owner', c.owner, 'custom_fields', c.custom_fields,
    'version', c.version, 'created_at', ts(c.created_at), 'updated_at', ts(c.updated_at),
    'deleted_at', ts(c.deleted_at));
