-- The latest report's time (`latest_report_at`, read at every start) counts
-- every report, counted or not, so the partial index of 0009 could not
-- serve it and the start scanned the whole table. Uncounted reports (one
-- person's reports past the per-reporter cap) are few: one index of every
-- report's time serves both that and the surge baseline's `at >= ? AND
-- counted`.
DROP INDEX reports_counted_by_time;
CREATE INDEX reports_by_time ON reports (at);
