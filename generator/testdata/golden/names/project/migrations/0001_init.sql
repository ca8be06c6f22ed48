-- Migration 0001 of project "names", written by `exhgen generate` from the spec.
-- Review it and commit it with the spec; never edit it once applied.

CREATE TABLE "data_patient_id_card" (
    "id" uuid PRIMARY KEY,
    "creator_id" uuid NOT NULL,
    "user_ids" uuid[] NOT NULL DEFAULT '{}',
    "group_ids" uuid[] NOT NULL DEFAULT '{}',
    "status" text NOT NULL DEFAULT 'active',
    "status_changed_at" timestamptz NOT NULL,
    "created_at" timestamptz NOT NULL,
    "updated_at" timestamptz NOT NULL,
    "version" bigint NOT NULL DEFAULT 1,
    "uuid" uuid,
    "json_blob" jsonb,
    CONSTRAINT "data_patient_id_card_json_blob_check" CHECK (jsonb_typeof("json_blob") = 'object')
);

CREATE INDEX "data_patient_id_card_creator_id_idx" ON "data_patient_id_card" ("creator_id");

CREATE INDEX "data_patient_id_card_user_ids_idx" ON "data_patient_id_card" USING gin ("user_ids");

CREATE INDEX "data_patient_id_card_group_ids_idx" ON "data_patient_id_card" USING gin ("group_ids");

CREATE INDEX "data_patient_id_card_created_at_idx" ON "data_patient_id_card" ("created_at" DESC, "id" DESC);

CREATE TABLE "data_url" (
    "id" uuid PRIMARY KEY,
    "creator_id" uuid NOT NULL,
    "user_ids" uuid[] NOT NULL DEFAULT '{}',
    "group_ids" uuid[] NOT NULL DEFAULT '{}',
    "status" text NOT NULL DEFAULT 'active',
    "status_changed_at" timestamptz NOT NULL,
    "created_at" timestamptz NOT NULL,
    "updated_at" timestamptz NOT NULL,
    "version" bigint NOT NULL DEFAULT 1,
    "type" text NOT NULL,
    "id_card" text,
    "http_api" jsonb,
    CONSTRAINT "data_url_http_api_check" CHECK (jsonb_typeof("http_api") = 'object')
);

CREATE INDEX "data_url_creator_id_idx" ON "data_url" ("creator_id");

CREATE INDEX "data_url_user_ids_idx" ON "data_url" USING gin ("user_ids");

CREATE INDEX "data_url_group_ids_idx" ON "data_url" USING gin ("group_ids");

CREATE INDEX "data_url_created_at_idx" ON "data_url" ("created_at" DESC, "id" DESC);
