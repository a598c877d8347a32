-- statcache's demo chat platform: the tables `migrate --create-source-tables` creates where they are
-- missing (the demo, the benchmarks' and the tests' databases), matching the statcache source
-- profile and src/schema/chat-tables.ts. Never applied to a platform's database otherwise: migrate
-- checks that the profile's tables exist and refuses to invent them. Not a migration (drizzle's
-- journal does not list it): every statement is IF NOT EXISTS, so applying it again changes nothing.
CREATE TABLE IF NOT EXISTS "teams" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"slug" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "teams_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "experiments" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"team_id" bigint NOT NULL REFERENCES "teams"("id") ON DELETE cascade,
	"name" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "participants" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"team_id" bigint NOT NULL REFERENCES "teams"("id") ON DELETE cascade,
	"identifier" text NOT NULL,
	"platform" text DEFAULT 'web' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "participants_team_platform_identifier_key" UNIQUE("team_id","platform","identifier")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "chats" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"team_id" bigint NOT NULL REFERENCES "teams"("id") ON DELETE cascade,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "experiment_sessions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"team_id" bigint NOT NULL REFERENCES "teams"("id") ON DELETE cascade,
	"experiment_id" bigint NOT NULL REFERENCES "experiments"("id") ON DELETE cascade,
	"participant_id" bigint REFERENCES "participants"("id") ON DELETE set null,
	"chat_id" bigint NOT NULL REFERENCES "chats"("id") ON DELETE cascade,
	"platform" text DEFAULT 'web' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "experiment_sessions_chat_id_key" UNIQUE("chat_id")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "chat_messages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chat_id" bigint NOT NULL REFERENCES "chats"("id") ON DELETE cascade,
	"message_type" text NOT NULL,
	"content" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "chat_messages_message_type_check" CHECK ("message_type" in ('human', 'ai', 'system'))
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "tags" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"team_id" bigint NOT NULL REFERENCES "teams"("id") ON DELETE cascade,
	"name" text NOT NULL,
	"category" text DEFAULT '' NOT NULL,
	CONSTRAINT "tags_team_name_category_key" UNIQUE("team_id","name","category")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "chat_message_tags" (
	"message_id" bigint NOT NULL REFERENCES "chat_messages"("id") ON DELETE cascade,
	"tag_id" bigint NOT NULL REFERENCES "tags"("id") ON DELETE cascade,
	CONSTRAINT "chat_message_tags_pkey" PRIMARY KEY("message_id","tag_id")
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "experiments_team_id_idx" ON "experiments" USING btree ("team_id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "experiment_sessions_experiment_id_created_at_idx" ON "experiment_sessions" USING btree ("experiment_id","created_at");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "experiment_sessions_participant_id_idx" ON "experiment_sessions" USING btree ("participant_id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "chat_messages_chat_id_type_created_at_idx" ON "chat_messages" USING btree ("chat_id","message_type","created_at") INCLUDE ("id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "chat_message_tags_tag_id_idx" ON "chat_message_tags" USING btree ("tag_id");
