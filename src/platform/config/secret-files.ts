// Secrets from files: every secret variable can also be given as `<NAME>_FILE`, the path of a file
// whose content is the value (a mounted Kubernetes Secret, a compose secret under /run/secrets), so
// credentials need not sit in the process environment, where `ps e`, crash dumps and `docker
// inspect` show them. This runs on the raw environment before validation: the config sees the
// value as if it had been set directly, and validates it the same way.
import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigProblem } from '../../config.ts';

/**
 * The variables that hold credentials (tokens, keys, passwords, URLs that may carry a password).
 * Only these take a `_FILE` form; a test checks each is a variable the config reads.
 */
export const SECRET_VARIABLES = [
  'ADMIN_API_TOKEN',
  'DATABASE_URL',
  'REDIS_URL',
  'TWILIO_AUTH_TOKEN',
  'SENDGRID_API_KEY',
  'SMTP_URL',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'INVOICE_SOURCE_URL',
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'AI_API_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'LOOKER_CLIENT_ID',
  'LOOKER_CLIENT_SECRET',
  'CREDITS_TRINO_URL',
  'CREDITS_QUERY_DATABASE_URL',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'CHAT_API_KEYS',
] as const;

export const FILE_SUFFIX = '_FILE';

type Env = Record<string, string | undefined>;

/** Empty means unset, as everywhere in the config (`REDIS_URL=` in a .env file). */
const isSet = (value: string | undefined): value is string => value !== undefined && value !== '';

/**
 * `env` with each `<NAME>_FILE` of a secret variable replaced by `<NAME>` holding the file's
 * content (trailing line breaks removed: `echo token > file` and editors add one). Throws a
 * ConfigError naming the variable when both forms are set or a file cannot be read; the error
 * says which file, never what it holds.
 */
export function resolveSecretFiles(
  env: Env,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): Env {
  const resolved: Env = { ...env };
  const problems: ConfigProblem[] = [];
  for (const name of SECRET_VARIABLES) {
    const fileVariable = `${name}${FILE_SUFFIX}`;
    const file = env[fileVariable];
    delete resolved[fileVariable];
    if (!isSet(file)) continue;
    if (isSet(env[name])) {
      problems.push({
        variable: name,
        message: `set both ${name} and ${fileVariable}: keep one (${fileVariable} reads the value from a file)`,
      });
      continue;
    }
    let content: string;
    try {
      content = readFile(file).replace(/[\r\n]+$/, '');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.push({ variable: fileVariable, message: `cannot read the file ${file} (${code})` });
      continue;
    }
    if (content === '') {
      problems.push({ variable: fileVariable, message: `the file ${file} is empty` });
      continue;
    }
    resolved[name] = content;
  }
  if (problems.length) throw new ConfigError(problems);
  return resolved;
}
