-- Indexes for lookups that scanned whole tables, which grow for as long as
-- Dialtone runs: every one ran inside a write or on a public form post.

-- A confirmation link (anyone may post one) finds its subscription by the
-- token's hash.
CREATE INDEX subscribers_by_confirm_hash ON subscribers (confirm_hash)
    WHERE confirm_hash IS NOT NULL;
-- The hourly erasure (`forget_destinations`) deletes sign-ups never
-- confirmed by age...
CREATE INDEX subscribers_unconfirmed_by_age ON subscribers (created_at)
    WHERE confirmed_at IS NULL;
-- ...and erases the addresses of finished messages: once erased, a row
-- leaves these indexes, so they hold about a month of messages, not all.
CREATE INDEX outbox_delivered_holding_address ON outbox (delivered_at)
    WHERE channel IN ('email', 'webhook') AND destination <> '';
CREATE INDEX outbox_given_up_holding_address ON outbox (gave_up_at)
    WHERE channel IN ('email', 'webhook') AND destination <> '';
-- A restarted run's surge baseline reads the counted reports of the last
-- weeks.
CREATE INDEX reports_counted_by_time ON reports (at) WHERE counted;
