-- The staff's search box finds deals by a part of their title as it does contacts and accounts.
CREATE INDEX deals_title_trgm ON deals USING gin (lower(title) public.gin_trgm_ops) WHERE deleted_at IS NULL;
