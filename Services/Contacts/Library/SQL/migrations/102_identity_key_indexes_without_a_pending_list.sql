-- Dedupe probes these on every create and import batch; a GIN pending list would make
-- each probe scan up to 4 MB of unmerged entries. The keys per row are few, so
-- updating the index at once costs little.
ALTER INDEX contacts_email_keys SET (fastupdate = off);
ALTER INDEX contacts_phone_keys SET (fastupdate = off);
SELECT gin_clean_pending_list('contacts_email_keys'::regclass);
SELECT gin_clean_pending_list('contacts_phone_keys'::regclass);
