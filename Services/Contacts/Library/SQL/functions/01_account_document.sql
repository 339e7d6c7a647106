CREATE OR REPLACE FUNCTION account_document(a accounts) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', a.id, 'name', a.name, 'legal_name', a.legal_name, 'tax_id', a.tax_id,
    'industry', a.industry, 'size_band', a.size_band, 'website', a.website, 'address', nullif(a.address, '{}'),
    'parent_account_id', a.parent_account_id, 'owner', a.owner, 'tags', to_jsonb(a.tags),
    'custom_fields', a.custom_fields, 'version', a.version, 'created_at', ts(a.created_at),
    'updated_at', ts(a.updated_at), 'deleted_at', ts(a.deleted_at));
