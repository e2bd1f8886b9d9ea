// Finding the "Summary Info" section of a notebook whatever way its author wrote the heading:
// any level, ATX (`## x`) or setext (`x` over `===`), numbered (`4.`, `4)`, `IV.`), with emoji,
// emphasis or trailing punctuation, in any case. Two titles match when their words match.
import { type Cell, hasTag, joined } from './notebook-format.ts';

export interface Heading {
  level: number;
  title: string;
}

/** The words of a title, lowercased, without numbering, emoji, emphasis or punctuation. */
export function headingWords(title: string): string {
  const words = title
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .split(' ')
    .filter(Boolean);
  // Leading section numbers: "4", "4 2" (from 4.2), or a roman numeral followed by more words.
  while (words.length > 1 && /^(\d+|[ivxlc]+)$/.test(words[0] as string)) words.shift();
  return words.join(' ');
}

/** Every heading of a markdown cell, in order. */
export function headingsOf(cell: Cell): Heading[] {
  if (cell.cell_type !== 'markdown') return [];
  const lines = joined(cell.source).split(/\r?\n/);
  const found: Heading[] = [];
  let fenced = false;
  lines.forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) return;
    // `##Summary Info` without the space too: Jupyter's renderer has shown it as a heading.
    const atx = /^\s{0,3}(#{1,6})\s*([^#\s].*?)\s*#*\s*$/.exec(line);
    if (atx) {
      found.push({ level: (atx[1] as string).length, title: atx[2] as string });
      return;
    }
    const next = lines[i + 1];
    if (line.trim() && next !== undefined && /^\s{0,3}(=+|-+)\s*$/.test(next) && !/^\s*[-*+]\s/.test(line))
      found.push({ level: next.trim().startsWith('=') ? 1 : 2, title: line.trim() });
    const html = /^\s*<h([1-6])[^>]*>(.*?)<\/h\1>\s*$/i.exec(line);
    if (html) found.push({ level: Number(html[1]), title: (html[2] as string).replace(/<[^>]+>/g, '') });
  });
  return found;
}

/**
 * The cells of the summary: those tagged `summary`, else those after the heading whose words
 * match, up to the next heading of the same level or above. Empty when there is neither.
 */
export function summaryCells(cells: Cell[], heading: string): { cells: Cell[]; heading: string | null } {
  const tagged = cells.filter((cell) => hasTag(cell, 'summary'));
  if (tagged.length) return { cells: tagged, heading: null };
  const wanted = headingWords(heading);
  for (let start = 0; start < cells.length; start += 1) {
    const headings = headingsOf(cells[start] as Cell);
    const at = headings.findIndex((h) => headingWords(h.title) === wanted);
    if (at < 0) continue;
    const { level, title } = headings[at] as Heading;
    // A heading of the same level or above later in the same cell ends the section before any code.
    if (headings.slice(at + 1).some((h) => h.level <= level)) return { cells: [], heading: title };
    const section: Cell[] = [];
    for (const cell of cells.slice(start + 1)) {
      if (headingsOf(cell).some((h) => h.level <= level)) break;
      section.push(cell);
    }
    return { cells: section, heading: title };
  }
  return { cells: [], heading: null };
}
