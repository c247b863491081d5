import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';

/**
 * The candidate's console (web/, built into dist/web) served at `/`: assets
 * under /assets/ have content hashes in their names, so they are cached for
 * a year and never revalidated; index.html is never cached, so a new build is
 * picked up at the next load; any other GET that is not the API, the docs,
 * health or metrics is a client route and gets index.html. Every page carries
 * a strict Content-Security-Policy: scripts, styles and connections from this
 * origin only, nothing inline, no frames, no plugins.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SERVER_ROUTES = /^\/(api|docs|health|metrics)(\/|$)/;

/** Middlewares for the console, or none when it was not built (an API-only deployment). */
export function consoleStatic(
  root: string,
): ((req: Request, res: Response, next: NextFunction) => void)[] {
  const indexPath = join(root, 'index.html');
  if (!existsSync(indexPath)) return [];
  const index = readFileSync(indexPath);
  const assets = express.static(join(root, 'assets'), {
    immutable: true,
    maxAge: '365d',
    index: false,
    fallthrough: false, // a missing hashed asset is a 404, not the page
  });
  return [
    (req, res, next) => {
      if (req.path.startsWith('/assets/')) {
        res.setHeader('Content-Security-Policy', CONSOLE_CSP);
        req.url = req.url.slice('/assets'.length);
        assets(req, res, next);
        return;
      }
      if ((req.method !== 'GET' && req.method !== 'HEAD') || SERVER_ROUTES.test(req.path)) {
        next();
        return;
      }
      // A file-like path (favicon.ico, robots.txt) that is not built is a 404, not the page.
      if (/\.[a-z0-9]+$/i.test(req.path) && req.path !== '/index.html') {
        next();
        return;
      }
      res.setHeader('Content-Security-Policy', CONSOLE_CSP);
      res.setHeader('Cache-Control', 'no-cache');
      res.type('html').send(index);
    },
  ];
}
