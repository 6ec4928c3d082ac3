-- Pages and notices wait behind an earlier, still pending message about the
-- same incident to the same destination (`due_messages`): that test looks up
-- the pending messages of one destination.
CREATE INDEX outbox_pending_by_destination ON outbox (destination)
    WHERE delivered_at IS NULL AND gave_up_at IS NULL;
