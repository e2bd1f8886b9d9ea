// Finds every link to the configured Looker host in a Slack message, whatever Slack formatting is
// around it: `<url>` and `<url|label>`, inline code and code blocks (where Slack sends the URL
// bare), `_italic_`, `*bold*`, `~strike~`, parentheses and sentence punctuation. Slack escapes
// &, < and > as entities everywhere, code included, so those are undone first.
//
// Each one is readable (a Look, an Explore with a query slug `qid`, a `/x/` short link) or
// unreadable with the reason (a dashboard, an Explore without `qid`, any other page): none is
// dropped without a word.

export type LookerLink =
  | { kind: 'look'; url: string; lookId: string }
  | { kind: 'explore'; url: string; model: string; view: string; slug: string }
  | { kind: 'short'; url: string; slug: string };

/** A link to the Looker host that names no query CreditBot can read, and why. */
export interface UnreadableLink {
  kind: 'unreadable';
  url: string;
  reason: string;
}

export type ScannedLink = LookerLink | UnreadableLink;

/**
 * A URL runs to whitespace, Slack's `<`, `>` and `|`, a quote or a backtick, or the start of the
 * next URL (two links glued together by a comma are two links).
 */
const URL_PATTERN = /https?:\/\/(?:(?!https?:\/\/)[^\s<>|"`])+/gi;
/** Formatting and punctuation that ends a sentence or closes mrkdwn, never the end of a Looker link. */
const TRAILING = /[_*~.,;:!?)\]}'>]+$/;

const decodeEntities = (text: string) =>
  text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** Every link to the host, in the order of the message, each once (by what it names). */
export function scanLookerLinks(text: string, host: string): ScannedLink[] {
  const plain = decodeEntities(text);
  const found: ScannedLink[] = [];
  const seen = new Set<string>();
  for (const match of plain.matchAll(URL_PATTERN)) {
    const raw = match[0].replace(TRAILING, '');
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      continue;
    }
    if (url.host.toLowerCase() !== host.toLowerCase()) continue;
    const link = classify(url);
    const key = linkKey(link);
    if (seen.has(key)) continue;
    seen.add(key);
    found.push(link);
  }
  return found;
}

/** The readable links only. */
export function extractLookerLinks(text: string, host: string): LookerLink[] {
  return scanLookerLinks(text, host).filter((link): link is LookerLink => link.kind !== 'unreadable');
}

/**
 * A link's identity: the same Look linked twice (or embedded) is one link. Different kinds of
 * link stay apart even when they name the same query: the request resolves them and says so.
 */
export function linkKey(link: ScannedLink): string {
  if (link.kind === 'look') return `look:${link.lookId}`;
  if (link.kind === 'unreadable') return `url:${link.url}`;
  return `${link.kind}:${link.slug}`;
}

const SLUG = /^[A-Za-z0-9]+$/;

function classify(url: URL): ScannedLink {
  const parts = url.pathname.split('/').filter(Boolean);
  const href = url.toString();
  // Embedded content (/embed/looks/<id>, /embed/explore/...) is the same content.
  const path = parts[0] === 'embed' ? parts.slice(1) : parts;
  const unreadable = (reason: string): UnreadableLink => ({ kind: 'unreadable', url: href, reason });
  if (path[0] === 'looks') {
    if (path[1] && /^\d+$/.test(path[1])) return { kind: 'look', url: href, lookId: path[1] };
    return unreadable('not a Look id (expected /looks/<number>)');
  }
  if (path[0] === 'explore') {
    if (!path[1] || !path[2]) return unreadable('an Explore link without a model and view');
    const slug = url.searchParams.get('qid');
    if (!slug)
      return unreadable(
        'an Explore link without qid= names no saved query (copy the link from Share, which adds ?qid=)',
      );
    if (!SLUG.test(slug)) return unreadable(`qid=${slug} is not a Looker query slug`);
    return { kind: 'explore', url: href, model: path[1], view: path[2], slug };
  }
  if (path[0] === 'x') {
    if (path[1] && SLUG.test(path[1])) return { kind: 'short', url: href, slug: path[1] };
    return unreadable('not a Looker short link (expected /x/<slug>)');
  }
  if (path[0] === 'dashboards' || path[0] === 'dashboards-next')
    return unreadable(
      "a dashboard holds several queries, so it names no one query: link the tile's Look or Explore",
    );
  return unreadable('not a Look, an Explore with qid= or a short link');
}

/** How a link is named in replies and summaries. */
export function describeLink(link: ScannedLink): string {
  if (link.kind === 'look') return `Look ${link.lookId}`;
  if (link.kind === 'explore') return `Explore ${link.model}/${link.view} (qid ${link.slug})`;
  if (link.kind === 'short') return `short link ${link.slug}`;
  return link.url;
}
