-- Migration 0001 of project "tiny", written by `exhgen generate` from the spec.
-- Review it and commit it with the spec; never edit it once applied.

CREATE TABLE "data_note" (
    "id" uuid PRIMARY KEY,
    "creator_id" uuid NOT NULL,
    "user_ids" uuid[] NOT NULL DEFAULT '{}',
    "group_ids" uuid[] NOT NULL DEFAULT '{}',
    "status" text NOT NULL DEFAULT 'active',
    "status_changed_at" timestamptz NOT NULL,
    "created_at" timestamptz NOT NULL,
    "updated_at" timestamptz NOT NULL,
    "version" bigint NOT NULL DEFAULT 1,
    "text" text NOT NULL,
    "pinned" boolean,
    "due" date,
    "meta" jsonb,
    "scores" jsonb,
    CONSTRAINT "data_note_text_check" CHECK (char_length("text") <= 140),
    CONSTRAINT "data_note_meta_check" CHECK (jsonb_typeof("meta") = 'object'),
    CONSTRAINT "data_note_scores_check" CHECK (jsonb_typeof("scores") = 'array')
);

CREATE INDEX "data_note_creator_id_idx" ON "data_note" ("creator_id");

CREATE INDEX "data_note_user_ids_idx" ON "data_note" USING gin ("user_ids");

CREATE INDEX "data_note_group_ids_idx" ON "data_note" USING gin ("group_ids");

CREATE INDEX "data_note_created_at_idx" ON "data_note" ("created_at" DESC, "id" DESC);

CREATE INDEX "data_note_due_idx" ON "data_note" ("due");
