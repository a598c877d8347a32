/** The part of autocannon's API the dashboard benchmark uses (the package ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface Options {
      url: string;
      /** Concurrent connections, each with one request in flight. */
      connections: number;
      /** Requests to send in all; the run ends when every one has been answered. */
      amount: number;
      /** Seconds before a request counts as a timeout. */
      timeout?: number;
    }
    interface Result {
      errors: number;
      timeouts: number;
      non2xx: number;
    }
    /** Emits 'response' (client, statusCode, bytes, responseTime in ms) per answered request. */
    type Instance = EventEmitter;
  }

  function autocannon(
    options: autocannon.Options,
    callback: (error: Error | null, result: autocannon.Result) => void,
  ): autocannon.Instance;

  export = autocannon;
}
