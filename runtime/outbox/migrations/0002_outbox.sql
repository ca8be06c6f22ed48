-- Outboxes (DUR-2): rows inserted in the transaction of the change they
-- announce; relays (events, mail) deliver them at least once later, and
-- consumers dedupe by id.

CREATE TABLE event_outbox (
    id           uuid PRIMARY KEY,
    type         text NOT NULL CHECK (type <> ''),   -- e.g. user.deleted, data.measurement.created
    subject_id   text NOT NULL DEFAULT '',           -- the id of what the event is about
    actor_id     uuid,
    payload      jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    delivered_at timestamptz
);

CREATE INDEX event_outbox_undelivered_idx ON event_outbox (created_at) WHERE delivered_at IS NULL;

CREATE TABLE mail_outbox (
    id         uuid PRIMARY KEY,
    user_id    uuid,                                 -- the recipient, when a user
    to_address text NOT NULL CHECK (to_address <> ''),
    template   text NOT NULL CHECK (template <> ''), -- e.g. verify_email, password_reset
    language   text NOT NULL DEFAULT '',
    data       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    sent_at    timestamptz,
    attempts   integer NOT NULL DEFAULT 0
);

CREATE INDEX mail_outbox_unsent_idx ON mail_outbox (created_at) WHERE sent_at IS NULL;
