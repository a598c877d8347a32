/**
 * The dashboard's access control when it is served beyond loopback: one shared token
 * (STATCACHE_DASHBOARD_TOKEN). The API and /metrics take `Authorization: Bearer <token>`; the page
 * signs in once through a form at /signin, which sets an HttpOnly cookie holding a digest of the
 * token (never the token). Every route but /healthz needs one or the other.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';

const COOKIE = 'statcache_session';

const digest = (value: string) => createHash('sha256').update(`statcache-dashboard:${value}`).digest();

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieOf(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === COOKIE) return rest.join('=');
  }
  return undefined;
}

const SIGN_IN_PAGE = (message: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>statcache — sign in</title>
<link rel="stylesheet" href="/style.css"></head>
<body><main><h2>Sign in</h2>${message ? `<p class="error">${message}</p>` : ''}
<form method="post" action="/signin"><label>Dashboard token <input type="password" name="token" autofocus required></label>
<button type="submit">sign in</button></form></main></body></html>`;

/**
 * A router to mount before every route but /healthz: /signin (GET: the form; POST: checks the
 * token and sets the cookie), then a gate that lets a request through with the bearer token or the
 * cookie, answers the API and /metrics with 401, and sends the page to /signin.
 */
export function dashboardAuth(token: string): Router {
  const expected = digest(token);
  const router = express.Router();
  router.get('/signin', (_req, res) => {
    res.type('html').send(SIGN_IN_PAGE(''));
  });
  router.post('/signin', express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
    const given = typeof req.body?.token === 'string' ? req.body.token : '';
    if (!same(digest(given), expected)) {
      res.status(401).type('html').send(SIGN_IN_PAGE('That is not the dashboard token.'));
      return;
    }
    const secure = req.secure ? '; Secure' : '';
    res.setHeader(
      'Set-Cookie',
      `${COOKIE}=${expected.toString('hex')}; HttpOnly; SameSite=Strict; Path=/${secure}`,
    );
    res.redirect(303, '/');
  });
  router.use((req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const bearer = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
    const cookie = cookieOf(req);
    if (bearer !== undefined && same(digest(bearer), expected)) return next();
    if (cookie !== undefined && /^[0-9a-f]{64}$/.test(cookie) && same(Buffer.from(cookie, 'hex'), expected))
      return next();
    if (req.path.startsWith('/api') || req.path === '/metrics') {
      res.status(401).json({
        error: {
          message: 'sign in: send Authorization: Bearer <STATCACHE_DASHBOARD_TOKEN>',
          parameter: null,
        },
      });
      return;
    }
    res.redirect(303, '/signin');
  });
  return router;
}
