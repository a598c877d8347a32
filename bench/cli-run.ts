/**
 * Runs the real `statcache` CLI as a child process, as a user would, timing it from spawn to exit
 * and sampling its resident memory (VmRSS from /proc) every 20 ms.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/statcache.js', import.meta.url));
const SAMPLE_MS = 20;

export interface CliRun {
  ms: number;
  peakRssMb: number;
  stdout: string;
}

function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0; // exited between samples
  }
}

/** `statcache <args>` with only `env` (plus PATH) in its environment; rejects on a non-zero exit. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let peak = 0;
    let stdout = '';
    let stderr = '';
    const timer = setInterval(() => {
      if (child.pid) peak = Math.max(peak, rssMb(child.pid));
    }, SAMPLE_MS);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) reject(new Error(`statcache ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
      else resolve({ ms, peakRssMb: peak, stdout });
    });
  });
}
