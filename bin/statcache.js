#!/usr/bin/env node
// The statcache command. The CLI is compiled to dist/ by `npm run build`, which `npm ci` runs (prepare).
try {
  await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli/main.js')) {
    process.stderr.write('statcache: dist/ is missing; run `npm run build` (npm ci does it for you)\n');
    process.exit(1);
  }
  throw error;
}
