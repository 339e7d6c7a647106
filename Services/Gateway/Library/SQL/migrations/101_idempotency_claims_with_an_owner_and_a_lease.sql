-- A claim belongs to one request (claim) for as long as that request may take
-- (claimed_until): only its owner completes or abandons it, and a claim whose
-- request died frees the key when its lease ends, not five minutes later.
ALTER TABLE idempotency_records ADD COLUMN claim uuid, ADD COLUMN claimed_until timestamptz;
