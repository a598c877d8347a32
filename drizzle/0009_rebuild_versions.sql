-- Every chat's versions, computed once by an unscoped full rebuild for its batches to read, on
-- whichever connection each batch runs (a temp table is one connection's). Scratch data: UNLOGGED
-- (added by hand; drizzle-kit has no such option), so filling it writes no WAL and a crash empties
-- it. One rebuild uses it at a time (an advisory lock) and empties it when done.
CREATE UNLOGGED TABLE "statcache_rebuild_versions" (
	"chat_id" bigint PRIMARY KEY NOT NULL,
	"versions" text[] NOT NULL
);
