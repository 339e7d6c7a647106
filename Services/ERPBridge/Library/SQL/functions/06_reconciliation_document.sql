-- A reconciliation report: `match` when the digests agree, `differences` with each one listed,
-- `digest_differs` when every order agrees but the digests do not (the source's lines are not
-- written as the contract says).
CREATE OR REPLACE FUNCTION reconciliation_document(r reconciliations) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', r.id, 'source', r.source, 'date', r.day, 'received_at', ts(r.received_at),
    'erp_orders', r.erp_orders, 'crm_orders', r.crm_orders, 'erp_digest', r.erp_digest, 'crm_digest', r.crm_digest,
    'result', CASE WHEN r.erp_digest = r.crm_digest THEN 'match'
        WHEN jsonb_array_length(r.differences) = 0 THEN 'digest_differs' ELSE 'differences' END,
    'differences', r.differences);
