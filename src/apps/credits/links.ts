// Finds the Looker links in a Slack message: Looks (/looks/<id>), Explores with a query slug
// (/explore/<model>/<view>?qid=<slug>) and short links (/x/<slug>), on the configured host only.
// Slack wraps links as <https://...|label>, and escapes & as &amp;, so both are undone first.

export type LookerLink =
  | { kind: 'look'; url: string; lookId: string }
  | { kind: 'explore'; url: string; model: string; view: string; slug: string }
  | { kind: 'short'; url: string; slug: string };

const URL_PATTERN = /https?:\/\/[^\s<>|"]+/gi;

export function extractLookerLinks(text: string, host: string): LookerLink[] {
  const plain = text.replace(/&amp;/g, '&');
  const links: LookerLink[] = [];
  const seen = new Set<string>();
  for (const match of plain.matchAll(URL_PATTERN)) {
    const raw = match[0].replace(/[).,;:!?>]+$/, '');
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      continue;
    }
    if (url.host.toLowerCase() !== host.toLowerCase()) continue;
    const link = classify(url);
    if (!link) continue;
    const key = link.kind === 'look' ? `look:${link.lookId}` : `slug:${link.slug}`;
    if (seen.has(key)) continue;
    seen.add(key);
    links.push(link);
  }
  return links;
}

function classify(url: URL): LookerLink | null {
  const parts = url.pathname.split('/').filter(Boolean);
  const href = url.toString();
  if (parts[0] === 'looks' && parts[1] && /^\d+$/.test(parts[1]))
    return { kind: 'look', url: href, lookId: parts[1] };
  // Embedded Looks (/embed/looks/<id>) are the same Look.
  if (parts[0] === 'embed' && parts[1] === 'looks' && parts[2] && /^\d+$/.test(parts[2]))
    return { kind: 'look', url: href, lookId: parts[2] };
  const explore = parts[0] === 'embed' ? parts.slice(1) : parts;
  if (explore[0] === 'explore' && explore[1] && explore[2]) {
    const slug = url.searchParams.get('qid');
    if (slug && /^[A-Za-z0-9]+$/.test(slug))
      return { kind: 'explore', url: href, model: explore[1], view: explore[2], slug };
    return null;
  }
  if (parts[0] === 'x' && parts[1] && /^[A-Za-z0-9]+$/.test(parts[1]))
    return { kind: 'short', url: href, slug: parts[1] };
  return null;
}

/** How a link is named in replies and summaries. */
export function describeLink(link: LookerLink): string {
  if (link.kind === 'look') return `Look ${link.lookId}`;
  if (link.kind === 'explore') return `Explore ${link.model}/${link.view} (qid ${link.slug})`;
  return `short link ${link.slug}`;
}
