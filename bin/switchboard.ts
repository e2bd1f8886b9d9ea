#!/usr/bin/env node
// `npx switchboard ...`: Node 24 runs the TypeScript sources directly (type stripping).
import { runCli } from '../src/cli.ts';

process.exitCode = await runCli(process.argv.slice(2));
