/** Runs the real `statcache` bin (dist/, built by global setup) and captures what it prints. */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve('bin/statcache.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `statcache ...args` with DATABASE_URL=`databaseUrl` (unset when null), in `cwd` if given. */
export function runCli(
  args: string[],
  databaseUrl: string | null,
  env: Record<string, string> = {},
  cwd?: string,
): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (databaseUrl === null) delete childEnv.DATABASE_URL;
  else childEnv.DATABASE_URL = databaseUrl;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: childEnv, cwd }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
