CREATE OR REPLACE FUNCTION pipeline_document(p pipelines) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', p.id, 'name', p.name, 'is_default', p.is_default,
    'stages', (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'id', s.id, 'name', s.name, 'position', s.position, 'probability', s.probability)
            ORDER BY s.position), '[]')
        FROM stages s WHERE s.pipeline_id = p.id AND s.retired_at IS NULL),
    'retired_stages', (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'id', s.id, 'name', s.name, 'probability', s.probability, 'retired_at', ts(s.retired_at))
            ORDER BY s.retired_at, s.id), '[]')
        FROM stages s WHERE s.pipeline_id = p.id AND s.retired_at IS NOT NULL),
    'version', p.version, 'created_at', ts(p.created_at), 'updated_at', ts(p.updated_at));
