import type { Request, Response } from 'express';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The candidate's session token as a cookie, for the browser console: HttpOnly
 * (no script can read it), SameSite=Strict (never sent by another site), Path=/,
 * Secure when served over TLS (COOKIE_SECURE=auto) or always (true). Bearer
 * tokens keep working for API clients.
 */
export const SESSION_COOKIE = 'cka_session';

export type CookieSecurity = 'auto' | 'always' | 'never';

/** The cookie header's value for `name`, if present (no cookie-parser needed for one cookie). */
export function readCookie(
  request: { headers: IncomingHttpHeaders },
  name = SESSION_COOKIE,
): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function attributes(request: Request, security: CookieSecurity): string {
  const secure = security === 'always' || (security === 'auto' && request.secure);
  return `Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function setSessionCookie(
  request: Request,
  response: Response,
  token: string,
  security: CookieSecurity,
): void {
  response.append(
    'Set-Cookie',
    `${SESSION_COOKIE}=${encodeURIComponent(token)}; ${attributes(request, security)}`,
  );
}

export function clearSessionCookie(
  request: Request,
  response: Response,
  security: CookieSecurity,
): void {
  response.append('Set-Cookie', `${SESSION_COOKIE}=; Max-Age=0; ${attributes(request, security)}`);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a request authenticated by the cookie may change state: it must come
 * from a page of this origin. Browsers say so with `Sec-Fetch-Site:
 * same-origin`, or with an `Origin` whose host is the one asked. (SameSite=Strict
 * already keeps other sites' requests cookieless; this also refuses sibling
 * origins on the same site and clients that send neither header.)
 */
export function sameOriginWrite(request: Request): boolean {
  if (SAFE_METHODS.has(request.method)) return true;
  const fetchSite = request.headers['sec-fetch-site'];
  if (fetchSite) return fetchSite === 'same-origin';
  return originIsHost(request.headers);
}

/** Whether the request's `Origin` names the host it was sent to (a page of this site). */
export function originIsHost(headers: IncomingHttpHeaders): boolean {
  const origin = headers.origin;
  if (!origin) return false;
  try {
    return new URL(origin).host === headers.host;
  } catch {
    return false;
  }
}
