// Drift check: the committed migrations must already describe the schema in the code. drizzle-kit
// generates against a scratch copy of the migrations and must answer "No schema changes"; anything
// else (a new migration, an error) fails the check.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';

const committed = 'src/platform/db/migrations';
// drizzle-kit resolves `out` relative to the working directory, so the scratch copy lives below it.
const scratch = path.join('node_modules', '.cache', `switchboard-migrations-${process.pid}`);
mkdirSync(scratch, { recursive: true });
try {
  cpSync(committed, scratch, { recursive: true });
  let output: string;
  try {
    output = execFileSync('npx', ['drizzle-kit', 'generate', '--name', 'drift_check'], {
      env: { ...process.env, DRIZZLE_OUT: scratch, npm_config_loglevel: 'error' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    output =
      String((error as { stdout?: string }).stdout ?? '') +
      String((error as { stderr?: string }).stderr ?? '');
  }
  if (!output.includes('No schema changes')) {
    console.error(
      'The schema and the committed migrations disagree. Run `npm run db:generate` and commit the new file.\n',
      output,
    );
    process.exit(1);
  }
  console.log('migrations match the schema');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
