CREATE OR REPLACE FUNCTION user_document(u users) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', u.id, 'name', u.name, 'email', u.email, 'role', u.role, 'active', u.active,
    'team_ids', coalesce((SELECT jsonb_agg(m.team_id ORDER BY m.team_id) FROM team_members m WHERE m.user_id = u.id), '[]'::jsonb),
    'time_zone', u.time_zone,
    'out_of_office', CASE WHEN u.out_of_office_from IS NULL THEN NULL
        ELSE jsonb_build_object('from', u.out_of_office_from, 'to', u.out_of_office_to) END,
    'password_set', u.password_hash IS NOT NULL,
    'version', u.version, 'created_at', ts(u.created_at), 'updated_at', ts(u.updated_at));
