-- An ERP's new customer with a tax number is the live account with that number, compared as the
-- ERP bridge compares them (upper-case letters and digits only); found by this index.
CREATE INDEX accounts_tax_key ON accounts ((regexp_replace(upper(tax_id), '[^A-Z0-9]', '', 'g')))
    WHERE tax_id IS NOT NULL AND deleted_at IS NULL;
