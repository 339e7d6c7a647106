-- A person's recent interactions (the staff's home page) without scanning every contact's timeline.
CREATE INDEX interactions_recorded_by ON interactions (recorded_by, occurred_at DESC, id DESC) WHERE recorded_by IS NOT NULL;
