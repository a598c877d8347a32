/** The part of autocannon's API the dashboard benchmarks use (the package ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    /** What autocannon keeps per connection between a request's setup and its answer. */
    type Context = Record<string, unknown>;
    /** The raw request setupRequest may rewrite (path, method, headers, body). */
    interface RawRequest {
      path?: string;
      method?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
    }
    interface Request extends RawRequest {
      /** Rewrites the request before each send; runs with that connection's context. */
      setupRequest?: (request: RawRequest, context: Context) => RawRequest;
      /** Runs on each answer, with the context of the request it answers. */
      onResponse?: (status: number, body: string, context: Context, headers: Record<string, string>) => void;
    }
    interface Options {
      url: string;
      /** Concurrent connections, each with one request in flight. */
      connections: number;
      /** Requests to send in all; the run ends when every one has been answered. Overrides duration. */
      amount?: number;
      /** Seconds to run for, when no amount is given. */
      duration?: number;
      /** Seconds before a request counts as a timeout. */
      timeout?: number;
      /** The sequence each connection loops over. */
      requests?: Request[];
    }
    interface Result {
      /** Connection errors and timeouts. */
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
