CREATE OR REPLACE FUNCTION team_document(t teams) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', t.id, 'name', t.name, 'lead_id', t.lead_id,
    'member_ids', coalesce((SELECT jsonb_agg(m.user_id ORDER BY m.user_id) FROM team_members m WHERE m.team_id = t.id), '[]'::jsonb),
    'version', t.version, 'created_at', ts(t.created_at), 'updated_at', ts(t.updated_at));
