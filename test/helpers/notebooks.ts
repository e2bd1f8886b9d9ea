// Notebooks of the tests' own (not the sample): built cell by cell, written to a folder of the test's.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type TestCell = Record<string, unknown>;

let counter = 0;
const id = () => {
  counter += 1;
  return `c${counter}`;
};

export const markdown = (source: string): TestCell => ({
  id: id(),
  cell_type: 'markdown',
  metadata: {},
  source,
});

export const code = (source: string, tags: string[] = []): TestCell => ({
  id: id(),
  cell_type: 'code',
  metadata: tags.length ? { tags } : {},
  source,
  outputs: [],
  execution_count: null,
});

export const parameters = (source: string) => code(source, ['parameters']);

export const notebookJson = (cells: TestCell[]) => ({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  cells,
});

/** Executed cells for the reader's tests: a code cell with these outputs. */
export const ran = (count: number, outputs: unknown[], source = ''): TestCell => ({
  id: id(),
  cell_type: 'code',
  metadata: {},
  source,
  outputs,
  execution_count: count,
});
export const printed = (text: string) => ({ output_type: 'stream', name: 'stdout', text });
export const displayed = (data: Record<string, unknown>) => ({
  output_type: 'display_data',
  data,
  metadata: {},
});

export function notebookFolder() {
  const dir = mkdtempSync(path.join(tmpdir(), 'credits-test-notebooks-'));
  return {
    dir,
    write(name: string, cells: TestCell[]): string {
      const file = path.join(dir, name);
      writeFileSync(file, JSON.stringify(notebookJson(cells)));
      return file;
    },
  };
}
