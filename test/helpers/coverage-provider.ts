// Vitest's V8 coverage, plus the processes the tests start. `@vitest/coverage-v8` profiles only its
// own workers; the CLI tests run the real `node src/cli.ts` (test/helpers/processes.ts), whose code
// would otherwise count as never run. Those children get NODE_V8_COVERAGE (the directory named by
// CHILD_COVERAGE_ENV, set here before any worker starts); Node writes their raw V8 coverage there at
// exit. After the run their results are merged per script (@bcoe/v8-coverage, as vitest and c8 do)
// and converted by the provider's own converter (ast-v8-to-istanbul); their hits are then added to
// the entries of vitest's own result for the same file (see matching()), so one report and one set
// of thresholds cover both, and a file run in both places is counted once. Not c8 or a second
// report: c8 would convert the children with v8-to-istanbul, whose statements and branches are not
// vitest's, and two reports cannot be gated as one.
//
// A child ran Node's type stripping, which replaces types with blanks: its offsets are the offsets
// of the .ts file, so the converter is given exactly that stripped code and no source map.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeProcessCovs, type ProcessCov, type ScriptCov } from '@bcoe/v8-coverage';
import v8 from '@vitest/coverage-v8';
import type { CoverageProvider, CoverageProviderModule } from 'vitest/node';
import { CHILD_COVERAGE_ENV } from './child-coverage.ts';

interface Position {
  line: number;
  column: number;
}
interface Range {
  start: Position;
  end: Position;
}
// istanbul-lib-coverage's per-file data and the parts of its CoverageMap used here.
interface FileData {
  statementMap: Record<string, Range>;
  s: Record<string, number>;
  fnMap: Record<string, { decl: Range; loc: Range }>;
  f: Record<string, number>;
  branchMap: Record<string, { type: string; loc: Range; locations: Range[] }>;
  b: Record<string, number[]>;
}
interface CoverageMap {
  merge(other: unknown): void;
  files(): string[];
  data: Record<string, { data: FileData }>;
  addFileCoverage(fc: { data: FileData }): void;
  getCoverageSummary(): Record<'lines' | 'branches' | 'statements' | 'functions', { pct: number }>;
}

// The parts of V8CoverageProvider used here (methods of its class, untyped in its .d.ts).
interface V8Provider extends CoverageProvider {
  generateCoverage(context: { allTestsRun?: boolean }): Promise<CoverageMap>;
  createCoverageMap(): CoverageMap;
  isIncluded(filename: string): boolean;
  remapCoverage(
    url: string,
    wrapperLength: number,
    sources: { code: string },
    functions: ScriptCov['functions'],
  ): Promise<unknown>;
  options: { reportsDirectory: string };
}

const at = ({ line, column }: Position) => `${line}:${column}`;

/**
 * For each of the child's entries of one kind, the keys of the in-process entries that are the same
 * code. Both conversions walk the same program (vitest's SSR import/export rewriting is ignored by
 * its converter), so they list the same entries in the same order and the order is the match. The
 * positions are not: vite's source map snaps some starts to the nearest mapped token. Where the
 * counts differ (rare: one file in the suite), entries are matched on where they start.
 */
function matching<T>(into: Record<string, T>, from: Record<string, T>, start: (e: T) => string) {
  const own = Object.keys(into);
  const theirs = Object.keys(from);
  if (own.length === theirs.length) return new Map(theirs.map((key, i) => [key, [own[i] as string]]));
  const byStart = new Map<string, string[]>();
  for (const key of own) {
    const k = start(into[key] as T);
    byStart.set(k, [...(byStart.get(k) ?? []), key]);
  }
  return new Map(theirs.map((key) => [key, byStart.get(start(from[key] as T)) ?? []]));
}

/** Adds a child's hits to the file's entries as the in-process conversion laid them out. */
function addHits(into: FileData, from: FileData, unmatched: Record<string, number>): void {
  const count = (kind: string, targets: string[]) => {
    if (targets.length === 0) unmatched[kind] = (unmatched[kind] ?? 0) + 1;
  };
  for (const [key, targets] of matching(into.statementMap, from.statementMap, (r) => at(r.start))) {
    count('statements', targets);
    for (const t of targets) into.s[t] = (into.s[t] ?? 0) + (from.s[key] ?? 0);
  }
  for (const [key, targets] of matching(into.fnMap, from.fnMap, (fn) => at(fn.loc.start))) {
    count('functions', targets);
    for (const t of targets) into.f[t] = (into.f[t] ?? 0) + (from.f[key] ?? 0);
  }
  for (const [key, targets] of matching(
    into.branchMap,
    from.branchMap,
    (b) => `${b.type}@${at(b.loc.start)}`,
  )) {
    const same = targets.filter((t) => into.b[t]?.length === from.b[key]?.length);
    count('branches', same);
    for (const t of same) into.b[t] = (into.b[t] ?? []).map((hits, i) => hits + (from.b[key]?.[i] ?? 0));
  }
}

/** Every child's results for files the report includes, merged into one process's coverage. */
function childCoverage(dir: string, included: (file: string) => boolean): ProcessCov {
  let merged: ProcessCov = { result: [] };
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    let raw: ProcessCov;
    try {
      raw = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as ProcessCov;
    } catch {
      continue; // a child killed while writing leaves a partial file: its run is lost, not the report
    }
    const result = raw.result.filter((s) => s.url.startsWith('file://') && included(fileURLToPath(s.url)));
    if (result.length > 0) merged = mergeProcessCovs([merged, { result }]);
  }
  return merged;
}

function totals(map: CoverageMap) {
  const s = map.getCoverageSummary();
  return {
    lines: s.lines.pct,
    branches: s.branches.pct,
    statements: s.statements.pct,
    functions: s.functions.pct,
  };
}

async function withChildren(provider: V8Provider): Promise<V8Provider> {
  const dir = mkdtempSync(path.join(tmpdir(), 'switchboard-child-coverage-'));
  process.env[CHILD_COVERAGE_ENV] = dir;
  const generate = provider.generateCoverage.bind(provider);
  provider.generateCoverage = async (context) => {
    const map = await generate(context);
    const inProcess = totals(map);
    const children = childCoverage(dir, (file) => provider.isIncluded(file));
    const fromChildren = provider.createCoverageMap();
    for (const script of children.result) {
      const file = fileURLToPath(script.url);
      const source = readFileSync(file, 'utf8');
      const code = file.endsWith('.ts') ? stripTypeScriptTypes(source) : source;
      fromChildren.merge(await provider.remapCoverage(script.url, 0, { code }, script.functions));
    }
    const unmatched: Record<string, number> = {};
    for (const file of fromChildren.files()) {
      const child = fromChildren.data[file];
      const own = map.data[file];
      if (!child) continue;
      // A file no test imported (a run of some files only) has the child's layout alone.
      if (own) addHits(own.data, child.data, unmatched);
      else map.addFileCoverage(child);
    }
    const summary = { inProcess, withChildren: totals(map), childScripts: children.result.length, unmatched };
    console.log(`Coverage without child processes: ${JSON.stringify(inProcess)}`);
    console.log(`Coverage with child processes:    ${JSON.stringify(summary.withChildren)}`);
    mkdirSync(provider.options.reportsDirectory, { recursive: true });
    writeFileSync(
      path.join(provider.options.reportsDirectory, 'children-summary.json'),
      JSON.stringify(summary),
    );
    rmSync(dir, { recursive: true, force: true });
    return map;
  };
  return provider;
}

const module: CoverageProviderModule = {
  ...v8,
  async getProvider() {
    return withChildren((await v8.getProvider()) as V8Provider);
  },
};

export default module;
