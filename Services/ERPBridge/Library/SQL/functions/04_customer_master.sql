-- What an ERP receives of a customer (`<source>.customer`): only the data the CRM owns, so the
-- ERP's own fields (credit limit, payment terms, blocked) can never be overwritten from here, and
-- neither custom fields, owners, tags nor consent leave the CRM. `kind` says which the customer
-- is: an account (a company, with its contact persons) or a contact (a private customer).
CREATE OR REPLACE FUNCTION customer_master(crm_id uuid, erp_id text) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN coalesce(
    (SELECT jsonb_build_object(
        'kind', 'account', 'crm_id', a.id, 'erp_id', erp_id, 'version', a.version,
        'name', a.document->'name', 'legal_name', a.document->'legal_name', 'tax_id', a.document->'tax_id',
        'addresses', CASE WHEN jsonb_typeof(a.document->'address') = 'object' THEN jsonb_build_array(a.document->'address') ELSE '[]'::jsonb END,
        'emails', '[]'::jsonb, 'phones', '[]'::jsonb, 'website', a.document->'website', 'customer_type', NULL,
        'contact_persons', (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                'crm_id', c.id, 'first_name', c.document->'first_name', 'last_name', c.document->'last_name',
                'position', c.document->'position', 'emails', coalesce(c.document->'emails', '[]'::jsonb),
                'phones', coalesce(c.document->'phones', '[]'::jsonb)) ORDER BY c.id), '[]'::jsonb)
            FROM crm_contacts c WHERE c.account_id = a.id AND NOT c.deleted),
        'deleted', a.deleted)
     FROM crm_accounts a WHERE a.id = crm_id),
    (SELECT jsonb_build_object(
        'kind', 'contact', 'crm_id', c.id, 'erp_id', erp_id, 'version', c.version,
        'name', nullif(concat_ws(' ', c.document->>'first_name', c.document->>'last_name'), ''),
        'first_name', c.document->'first_name', 'last_name', c.document->'last_name',
        'legal_name', NULL, 'tax_id', NULL,
        'addresses', CASE WHEN jsonb_typeof(c.document->'address') = 'object' THEN jsonb_build_array(c.document->'address') ELSE '[]'::jsonb END,
        'emails', coalesce(c.document->'emails', '[]'::jsonb), 'phones', coalesce(c.document->'phones', '[]'::jsonb),
        'customer_type', c.document->'customer_type', 'company', c.document->'company', 'account_id', c.account_id,
        'contact_persons', '[]'::jsonb, 'deleted', c.deleted)
     FROM crm_contacts c WHERE c.id = crm_id));
