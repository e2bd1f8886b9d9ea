import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { appConfigs } from '../src/apps/index.ts';
import { envSchema, loadConfig, platformEnvSchema } from '../src/config.ts';

const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
const documented = [...example.matchAll(/^# ([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
// The README's configuration table: from its heading to the next one.
const table = readme.slice(
  readme.indexOf('## Configuration'),
  readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1),
);
const tabled = (line: string) =>
  [...(line.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]);

describe('.env.example', () => {
  it('documents every variable the config reads (the platform and every app), and nothing else', () => {
    expect([...documented].sort()).toEqual(Object.keys(envSchema.shape).sort());
  });

  it('shows the defaults the config actually uses', () => {
    const values = Object.fromEntries(
      [...example.matchAll(/^# ([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1] as string, m[2] as string]),
    );
    expect(loadConfig(values, { cwd: '/x' })).toEqual(loadConfig({}, { cwd: '/x' }));
  });
});

describe("the README's configuration table", () => {
  it('names every variable the config reads, and only those in its first column', () => {
    const variables = Object.keys(envSchema.shape);
    const firstColumn = table
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .flatMap(tabled);
    expect(firstColumn.filter((name) => !variables.includes(name as string))).toEqual([]);
    expect(variables.filter((name) => !table.includes(`\`${name}\``))).toEqual([]);
  });
});

describe('the merged schema', () => {
  it('gives each variable one owner: the platform or a single app', () => {
    const owners = [platformEnvSchema, ...Object.values(appConfigs).map((app) => app.schema)].flatMap(
      (schema) => Object.keys(schema.shape),
    );
    expect(owners.filter((name, at) => owners.indexOf(name) !== at)).toEqual([]);
    expect(owners.length).toBe(Object.keys(envSchema.shape).length);
  });
});
