-- Migration 0001 of project "clinic", written by `exhgen generate` from the spec.
-- Review it and commit it with the spec; never edit it once applied.

CREATE TABLE "data_measurement" (
    "id" uuid PRIMARY KEY,
    "creator_id" uuid NOT NULL,
    "user_ids" uuid[] NOT NULL DEFAULT '{}',
    "group_ids" uuid[] NOT NULL DEFAULT '{}',
    "status" text NOT NULL DEFAULT 'active',
    "status_changed_at" timestamptz NOT NULL,
    "created_at" timestamptz NOT NULL,
    "updated_at" timestamptz NOT NULL,
    "version" bigint NOT NULL DEFAULT 1,
    "systolic" bigint NOT NULL,
    "diastolic" bigint NOT NULL,
    "pulse" bigint,
    "taken_at" timestamptz NOT NULL,
    "arm" text,
    "position" text,
    "irregular_heartbeat" boolean,
    "note" text,
    "device" jsonb,
    "samples" jsonb,
    "tags" jsonb,
    CONSTRAINT "data_measurement_systolic_check" CHECK ("systolic" >= 40 AND "systolic" <= 300),
    CONSTRAINT "data_measurement_diastolic_check" CHECK ("diastolic" >= 20 AND "diastolic" <= 200),
    CONSTRAINT "data_measurement_pulse_check" CHECK ("pulse" >= 20 AND "pulse" <= 250),
    CONSTRAINT "data_measurement_arm_check" CHECK ("arm" IN ('left', 'right')),
    CONSTRAINT "data_measurement_position_check" CHECK ("position" IN ('sitting', 'standing', 'lying')),
    CONSTRAINT "data_measurement_note_check" CHECK (char_length("note") <= 500),
    CONSTRAINT "data_measurement_device_check" CHECK (jsonb_typeof("device") = 'object'),
    CONSTRAINT "data_measurement_samples_check" CHECK (jsonb_typeof("samples") = 'array'),
    CONSTRAINT "data_measurement_tags_check" CHECK (jsonb_typeof("tags") = 'array')
);

CREATE INDEX "data_measurement_creator_id_idx" ON "data_measurement" ("creator_id");

CREATE INDEX "data_measurement_user_ids_idx" ON "data_measurement" USING gin ("user_ids");

CREATE INDEX "data_measurement_group_ids_idx" ON "data_measurement" USING gin ("group_ids");

CREATE INDEX "data_measurement_created_at_idx" ON "data_measurement" ("created_at" DESC, "id" DESC);

CREATE INDEX "data_measurement_taken_at_idx" ON "data_measurement" ("taken_at");

CREATE TABLE "data_patient_profile" (
    "id" uuid PRIMARY KEY,
    "creator_id" uuid NOT NULL,
    "user_ids" uuid[] NOT NULL DEFAULT '{}',
    "group_ids" uuid[] NOT NULL DEFAULT '{}',
    "status" text NOT NULL DEFAULT 'active',
    "status_changed_at" timestamptz NOT NULL,
    "created_at" timestamptz NOT NULL,
    "updated_at" timestamptz NOT NULL,
    "version" bigint NOT NULL DEFAULT 1,
    "date_of_birth" date NOT NULL,
    "sex" text,
    "height_cm" double precision,
    "weight_kg" double precision,
    "target_systolic" bigint,
    "clinician_id" uuid,
    "contact_email" text,
    "medications" jsonb,
    CONSTRAINT "data_patient_profile_sex_check" CHECK ("sex" IN ('female', 'male', 'other', 'unknown')),
    CONSTRAINT "data_patient_profile_height_cm_check" CHECK ("height_cm" >= 40 AND "height_cm" <= 260),
    CONSTRAINT "data_patient_profile_weight_kg_check" CHECK ("weight_kg" >= 1 AND "weight_kg" <= 400),
    CONSTRAINT "data_patient_profile_target_systolic_check" CHECK ("target_systolic" >= 80 AND "target_systolic" <= 200),
    CONSTRAINT "data_patient_profile_medications_check" CHECK (jsonb_typeof("medications") = 'array')
);

CREATE INDEX "data_patient_profile_creator_id_idx" ON "data_patient_profile" ("creator_id");

CREATE INDEX "data_patient_profile_user_ids_idx" ON "data_patient_profile" USING gin ("user_ids");

CREATE INDEX "data_patient_profile_group_ids_idx" ON "data_patient_profile" USING gin ("group_ids");

CREATE INDEX "data_patient_profile_created_at_idx" ON "data_patient_profile" ("created_at" DESC, "id" DESC);

CREATE INDEX "data_patient_profile_clinician_id_idx" ON "data_patient_profile" ("clinician_id");
