import { domainName, renderMarkdown } from './markdown.js';

describe('renderMarkdown', () => {
  it('renders Markdown: code spans and blocks, lists, emphasis', () => {
    const html = renderMarkdown(
      'Scale `web` to **3**:\n\n```\nkubectl scale deploy web --replicas=3\n```\n\n- one\n- two',
    );
    expect(html).toContain('<code>web</code>');
    expect(html).toContain('<strong>3</strong>');
    expect(html).toContain('<pre><code>kubectl scale deploy web --replicas=3\n</code></pre>');
    expect(html).toContain('<li>one</li>');
  });

  it('leaves raw HTML inert, whatever the author wrote', () => {
    const html = renderMarkdown('<img src=x onerror=alert(1)> </script><script>alert(2)</script>');
    expect(html).not.toMatch(/<img|<script|<\/script>/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('opens the allowed documentation in a new tab, and no other link', () => {
    const html = renderMarkdown(
      '[docs](https://kubernetes.io/docs/concepts/) [helm](https://helm.sh/docs/) ' +
        '[evil](https://evil.example/) [js](javascript:alert(1)) [rel](/api/sessions/me)',
    );
    expect(html).toContain(
      '<a href="https://kubernetes.io/docs/concepts/" target="_blank" rel="noopener noreferrer">docs</a>',
    );
    expect(html).toContain('href="https://helm.sh/docs/"');
    expect(html).not.toContain('evil.example');
    expect(html).not.toMatch(/href="javascript:|href="\/api/);
    expect(html).toContain('<span class="link-blocked"');
    expect(html).toContain('evil</span>');
  });

  it('names domains as the curriculum does', () => {
    expect(domainName('services-networking')).toBe('Services & Networking');
    expect(domainName('unknown')).toBe('unknown');
  });
});
