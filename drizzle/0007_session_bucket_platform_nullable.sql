-- A session bucket copies its session's platform, and a source profile may allow sessions without
-- one (Open Chat Studio's API sessions): the column takes NULL, which never matches an excluded
-- platform. Metadata only: no rewrite, a brief ACCESS EXCLUSIVE lock.
ALTER TABLE "session_statistics_buckets" ALTER COLUMN "platform" DROP NOT NULL;
