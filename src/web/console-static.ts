import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import express, { type NextFunction, type Request, type Response } from 'express';

/**
 * The candidate's console (web/, built into dist/web) served at `/`: assets
 * under /assets/ have content hashes in their names, so they are cached for
 * a year and never revalidated, and are held in memory, gzipped once, for
 * browsers that accept it; index.html is never cached, so a new build is
 * picked up at the next load; any other GET that is not the API, the docs,
 * health or metrics is a client route and gets index.html. Every page carries
 * a strict Content-Security-Policy: scripts, styles and connections from this
 * origin only, no inline script, no frames, no plugins.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // 'unsafe-inline' for styles only: the terminal (xterm.js's DOM renderer)
  // writes its cell metrics and theme into <style> elements and style
  // attributes, which Chromium blocks otherwise. Scripts stay 'self' alone.
  "style-src 'self' 'unsafe-inline'",
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
  const assets = loadAssets(join(root, 'assets'));
  // Unhashed files beside index.html (the icon): revalidated on every load.
  const rootFiles = express.static(root, { index: false, cacheControl: false });
  return [
    (req, res, next) => {
      if (req.path.startsWith('/assets/')) {
        serveAsset(assets, req, res);
        return;
      }
      if ((req.method !== 'GET' && req.method !== 'HEAD') || SERVER_ROUTES.test(req.path)) {
        next();
        return;
      }
      // A file-like path (favicon.svg) is that file if built, else a 404, never the page.
      if (/\.[a-z0-9]+$/i.test(req.path) && req.path !== '/index.html') {
        res.setHeader('Content-Security-Policy', CONSOLE_CSP);
        res.setHeader('Cache-Control', 'no-cache');
        rootFiles(req, res, next);
        return;
      }
      res.setHeader('Content-Security-Policy', CONSOLE_CSP);
      res.setHeader('Cache-Control', 'no-cache');
      res.type('html').send(index);
    },
  ];
}

interface Asset {
  type: string;
  raw: Buffer;
  gzipped: Buffer;
}

/** Every built asset, read and gzipped once at start (a few files, tens of kilobytes). */
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(dir)) return assets;
  for (const name of readdirSync(dir)) {
    const raw = readFileSync(join(dir, name));
    assets.set(`/assets/${name}`, {
      type: extname(name).slice(1),
      raw,
      gzipped: gzipSync(raw, { level: 9 }),
    });
  }
  return assets;
}

function serveAsset(assets: Map<string, Asset>, req: Request, res: Response): void {
  res.setHeader('Content-Security-Policy', CONSOLE_CSP);
  const asset = req.method === 'GET' || req.method === 'HEAD' ? assets.get(req.path) : undefined;
  if (!asset) {
    // A missing hashed asset is a 404, never the page (which would run as the wrong type).
    res
      .status(404)
      .type('json')
      .send({ code: 'NOT_FOUND', message: `No asset ${req.path}`, details: {} });
    return;
  }
  res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
  res.setHeader('Vary', 'Accept-Encoding');
  res.type(asset.type);
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  if (gzip) res.setHeader('Content-Encoding', 'gzip');
  res.send(gzip ? asset.gzipped : asset.raw);
}
