/** A real `statcache serve --json` child process, and where it listens (from its {"serving"} line). */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from './wait-for.js';

export interface ServeProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:PORT/` as serve printed it. */
  serving: string;
  /** Everything serve printed as {"serving", host, port}. */
  printed: { serving: string; host: string; port: number };
}

/** Starts `statcache serve --port 0 --json` with `env` over the test's; kill `child` when done. */
export async function startServe(env: Record<string, string>): Promise<ServeProcess> {
  let stdout = '';
  const child = spawn(process.execPath, [resolve('bin/statcache.js'), 'serve', '--port', '0', '--json'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const line = await waitFor(() => stdout.split('\n').find((l) => l.includes('"serving"')), {
    timeoutMs: 20_000,
    what: 'serve to print where it listens',
  });
  const printed = JSON.parse(line) as ServeProcess['printed'];
  return { child, serving: printed.serving, printed };
}
