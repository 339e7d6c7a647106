CREATE OR REPLACE FUNCTION call_list_document(l call_lists) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', l.id, 'name', l.name, 'script', l.script, 'owner', l.owner,
    'progress', (SELECT jsonb_build_object('contacts', count(*), 'called', count(called_at),
            'to_call', count(*) - count(called_at))
        FROM call_list_entries WHERE call_list_id = l.id)
        || jsonb_build_object('outcomes', (SELECT coalesce(jsonb_object_agg(o.outcome, o.n), '{}')
            FROM (SELECT outcome, count(*) AS n FROM call_list_entries WHERE call_list_id = l.id AND outcome IS NOT NULL
                GROUP BY outcome) o)),
    'version', l.version, 'created_at', ts(l.created_at), 'updated_at', ts(l.updated_at));
