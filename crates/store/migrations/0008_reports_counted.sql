-- Whether the surge detector counted a report: one person's reports past
-- its per-reporter cap are stored (their contact is owed the reply) but
-- were not counted, and a restarted run must not learn them as if they had.
ALTER TABLE reports ADD COLUMN counted INTEGER NOT NULL DEFAULT 1;
