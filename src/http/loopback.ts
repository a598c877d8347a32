/**
 * Whether a listen address is loopback: apart from express, so the CLI can check `serve --host` at
 * start without loading the HTTP stack (importing express and its dependencies takes ~100 ms).
 */

/** Whether `host` is a loopback address (only this machine can reach it). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
