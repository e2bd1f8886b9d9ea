// The parts of the .ipynb format (nbformat 4) that CreditBot reads and writes.

export interface Cell {
  cell_type: 'code' | 'markdown' | 'raw';
  source: string | string[];
  metadata?: { tags?: string[] } & Record<string, unknown>;
  outputs?: Output[];
  execution_count?: number | null;
  id?: string;
}

export interface Output {
  output_type: 'stream' | 'execute_result' | 'display_data' | 'error';
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

export interface Notebook {
  cells: Cell[];
  metadata?: Record<string, unknown>;
  nbformat?: number;
  nbformat_minor?: number;
}

/** nbformat stores multi-line strings either whole or as a list of lines. */
export const joined = (value: unknown): string =>
  Array.isArray(value) ? value.join('') : typeof value === 'string' ? value : '';

export const hasTag = (cell: Cell, tag: string) => cell.metadata?.tags?.includes(tag) ?? false;

/** What a person reads of an output: its stream text or its text/plain form. */
export function outputText(output: Output): string {
  if (output.output_type === 'stream') return joined(output.text);
  if (output.output_type === 'error') return `${output.ename}: ${output.evalue}`;
  const data = output.data ?? {};
  if (data['text/plain'] !== undefined) return joined(data['text/plain']);
  if (data['text/markdown'] !== undefined) return joined(data['text/markdown']);
  return data['application/json'] !== undefined ? JSON.stringify(data['application/json']) : '';
}

/** Terminal colours in tracebacks and some library output. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');
export const stripAnsi = (text: string) => text.replace(ANSI, '');
