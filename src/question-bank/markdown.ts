import MarkdownIt from 'markdown-it';

/**
 * Task texts and solution explanations are Markdown, rendered here, on the
 * server, once per text (cached): by markdown-it with raw HTML off, so
 * nothing an author writes becomes markup but Markdown's own. Links go only
 * to the documentation a candidate may use in the exam and open in a new tab;
 * any other link is shown as its text.
 */

/** Hosts (and their subdomains) candidates may open from a task, as in the real exam. */
export const ALLOWED_DOC_HOSTS = ['kubernetes.io', 'helm.sh', 'github.com'];

/** Human names of the CKA curriculum domains (ids in question files). */
export const DOMAIN_NAMES: Record<string, string> = {
  troubleshooting: 'Troubleshooting',
  'cluster-architecture': 'Cluster Architecture, Installation & Configuration',
  'services-networking': 'Services & Networking',
  'workloads-scheduling': 'Workloads & Scheduling',
  storage: 'Storage',
};

export function domainName(domain: string): string {
  return DOMAIN_NAMES[domain] ?? domain;
}

function allowedLink(href: string): boolean {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return false; // relative links point into the engine, not the docs
  }
  if (url.protocol !== 'https:') return false;
  return ALLOWED_DOC_HOSTS.some(
    (host) => url.hostname === host || url.hostname.endsWith(`.${host}`),
  );
}

const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

// Links: allowed ones open in a new tab, without giving that tab this window;
// others lose their anchor (the text stays).
const hiddenLinks = new WeakSet<object>();
markdown.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  const token = tokens[idx];
  const href = String(token.attrGet('href') ?? '');
  if (!allowedLink(href)) {
    hiddenLinks.add(tokens[findClose(tokens, Number(idx))]);
    return '<span class="link-blocked" title="Only the allowed documentation can be opened">';
  }
  token.attrSet('target', '_blank');
  token.attrSet('rel', 'noopener noreferrer');
  return self.renderToken(tokens, idx, options);
};
markdown.renderer.rules.link_close = (tokens, idx, options, _env, self) =>
  hiddenLinks.has(tokens[idx]) ? '</span>' : self.renderToken(tokens, idx, options);

function findClose(tokens: { type: string }[], open: number): number {
  for (let i = open + 1; i < tokens.length; i++) if (tokens[i].type === 'link_close') return i;
  return open;
}

const MAX_CACHED = 2000;
const cache = new Map<string, string>();

/** Safe HTML for a Markdown text (see the module comment). */
export function renderMarkdown(source: string): string {
  let html = cache.get(source);
  if (html === undefined) {
    html = markdown.render(source);
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(source, html);
  }
  return html;
}
