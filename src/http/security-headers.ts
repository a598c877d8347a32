/** The headers every dashboard answer carries (test/serve-network.test.ts checks them). */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Headers for every answer: no sniffing, no framing, no referrer; and for everything but the paths
 * under `exemptPath` (bull-board: its own page runs inline scripts) a content security policy
 * allowing only this origin's files.
 */
export function securityHeaders(exemptPath: string): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    if (!req.path.startsWith(exemptPath))
      res.setHeader(
        'Content-Security-Policy',
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
      );
    next();
  };
}
