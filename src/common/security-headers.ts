import type { NextFunction, Request, Response } from 'express';

/**
 * Headers on every response: no MIME sniffing, no framing (clickjacking of
 * the report page or the docs), no referrer leaking a URL. API responses
 * carry session tokens, kubeconfigs and reports, so no cache (a browser's, a
 * proxy's) may keep them. A handler may still set its own
 * Content-Security-Policy (the HTML report does); frame-ancestors stays in it.
 */
export function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
  res.setHeader('Referrer-Policy', 'no-referrer');
  if (req.path.startsWith('/api/') || req.path === '/api')
    res.setHeader('Cache-Control', 'no-store');
  next();
}
