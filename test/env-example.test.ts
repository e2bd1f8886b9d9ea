import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSchema, loadConfig } from '../src/config.ts';

const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
const documented = [...example.matchAll(/^# ([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);

describe('.env.example', () => {
  it('documents every variable the config reads, and nothing else', () => {
    expect([...documented].sort()).toEqual(Object.keys(envSchema.shape).sort());
  });

  it('shows the defaults the config actually uses', () => {
    const values = Object.fromEntries(
      [...example.matchAll(/^# ([A-Z][A-Z0-9_]+)=(.+)$/gm)].map((m) => [m[1] as string, m[2] as string]),
    );
    expect(loadConfig(values, { cwd: '/x' })).toEqual(loadConfig({}, { cwd: '/x' }));
  });
});
