// Tables as notebooks show them: an HTML table (a pandas DataFrame's text/html), a Markdown pipe
// table, or aligned text (a DataFrame's text/plain, or a printed table with columns two spaces or a
// tab apart). Each is read as a header and rows of cell text; nothing here interprets amounts.
export interface TextTable {
  columns: string[];
  rows: string[][];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
const decode = (html: string) =>
  html
    .replace(/<[^>]+>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, name: string) =>
      name.startsWith('#x') || name.startsWith('#X')
        ? String.fromCodePoint(Number.parseInt(name.slice(2), 16))
        : name.startsWith('#')
          ? String.fromCodePoint(Number(name.slice(1)))
          : (ENTITIES[name.toLowerCase()] ?? all),
    )
    .replace(/\s+/g, ' ')
    .trim();

const rowsOf = (html: string) =>
  [...html.matchAll(/<tr\b[^>]*>([\s\S]*?)<\/tr>/gi)].map((row) =>
    [...(row[1] as string).matchAll(/<(t[hd])\b[^>]*>([\s\S]*?)<\/\1>/gi)].map((cell) =>
      decode(cell[2] as string),
    ),
  );

/**
 * The tables of an HTML fragment. The header is the `thead` row naming the column `isHeader`
 * picks out (pandas adds a second row for a named index), else the first row.
 */
export function htmlTables(html: string, isHeader: (cells: string[]) => boolean): TextTable[] {
  return [...html.matchAll(/<table\b[^>]*>([\s\S]*?)<\/table>/gi)].map((table) => {
    const body = table[1] as string;
    const head = /<thead\b[^>]*>([\s\S]*?)<\/thead>/i.exec(body);
    const headRows = head ? rowsOf(head[1] as string) : [];
    const bodyRows = rowsOf(head ? body.replace(head[0], '') : body);
    const columns = headRows.find(isHeader) ?? headRows[0] ?? bodyRows.shift() ?? [];
    return { columns, rows: bodyRows };
  });
}

const splitLine = (line: string): string[] => {
  const trimmed = line.trim();
  if (trimmed.includes('|'))
    return trimmed
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((cell) => cell.trim());
  return trimmed.split(/\s{2,}|\t/).map((cell) => cell.trim());
};

const isAmountLine = (line: string) =>
  /^\s*(\S+\s+)?[-(\u2212]?\$?\s*[\d,]*\.?\d+(e[+-]?\d+)?\)?\s*$/i.test(line);

const isRule = (line: string) => /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line);

/**
 * The tables of plain text: each line `isHeader` accepts starts one, and it runs to the next blank
 * line or a line of a single cell (a sentence after the table). Rows keep the cells they have:
 * an empty cell merges with the space around it, so placing a short row is the reader's call.
 */
export function textTables(text: string, isHeader: (cells: string[]) => boolean): TextTable[] {
  const lines = text.split(/\r?\n/);
  const tables: TextTable[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const columns = splitLine(lines[i] as string);
    if (!isHeader(columns)) continue;
    // A one-column table (`df[["credit"]]`) has one or two cells a row (with its index): its rows
    // must be amounts, so a sentence after it still ends it.
    const single = columns.length === 1;
    const first = lines.slice(i + 1).find((line) => !isRule(line)) ?? '';
    if (single && !isAmountLine(first.replace(/\|/g, ' '))) continue;
    const rows: string[][] = [];
    let j = i + 1;
    for (; j < lines.length; j += 1) {
      const line = lines[j] as string;
      if (!line.trim()) break;
      if (isRule(line)) continue;
      const cells = splitLine(line);
      if (single ? cells.length > 2 || !isAmountLine(cells.join('  ')) : cells.length === 1) break;
      rows.push(cells);
    }
    tables.push({ columns, rows });
    i = j - 1;
  }
  return tables;
}
