-- Every `exhgen apply` records here the schema snapshot it brought the
-- database to (migrations/schema.json as applied: storage tables and spec
-- state), so `exhgen plan` compares a spec with what this database holds,
-- not with the last generated state of one checkout. Append-only: the
-- latest row is the base of the next plan, the earlier ones the history.
CREATE TABLE exh_applied_snapshot (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    snapshot   jsonb NOT NULL,
    sha256     text NOT NULL,
    migrations text[] NOT NULL DEFAULT '{}',
    applied    text[] NOT NULL DEFAULT '{}',
    applied_at timestamptz NOT NULL,
    applied_by text NOT NULL
);
