// The building blocks every configuration schema uses (the platform's in src/config.ts and each
// app's in src/apps/<name>/config.ts), and the one shape an app's configuration takes, so the
// loader can merge every schema and validate the whole environment once.
import type { z } from 'zod';
import { z as zod } from 'zod';
import type { PlatformConfig } from '../../config.ts';

export const port = zod.coerce.number().int().min(0).max(65535);
export const positiveInt = zod.coerce.number().int().positive();
export const seconds = zod.coerce.number().positive();

/** `true/false/1/0/yes/no/on/off`, any case; anything else is a config error, not silently false. */
export const flag = zod
  .string()
  .trim()
  .toLowerCase()
  .pipe(zod.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']))
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

export const postgresUrl = zod
  .string()
  .trim()
  .refine((value) => /^postgres(ql)?:\/\/.+/.test(value), 'a postgres:// or postgresql:// connection URL');

export const httpUrl = zod
  .string()
  .trim()
  .refine((value) => /^https?:\/\/\S+$/.test(value), 'an http:// or https:// URL')
  .transform((value) => value.replace(/\/+$/, ''));

export const redisUrl = zod
  .string()
  .trim()
  .refine((value) => /^rediss?:\/\/.+/.test(value), 'a redis:// or rediss:// URL');

/** Empty strings in .env files mean "not set", which is what people who write `REDIS_URL=` intend. */
export const optional = <T extends z.ZodType>(schema: T) =>
  zod.preprocess((value) => (value === '' ? undefined : value), schema.optional());

/** `a, b,,c` -> `['a', 'b', 'c']`. */
export const commaList = (value: string): string[] =>
  value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);

/** Reports one problem with one variable; the loader collects them all before failing. */
export type Problem = (variable: string, message: string) => void;

/** What an app's settings may depend on besides its own variables. */
export interface SettingsContext {
  /** The directory relative paths (templates, notebooks) are resolved against. */
  cwd: string;
  /** The platform's settings (e.g. which channel drivers are configured). */
  platform: PlatformConfig;
  /** The environment as given, for settings that pass variables on (the notebook kernel's). */
  raw: Record<string, string | undefined>;
  /**
   * Cross-checks (required-when rules, files that must exist) report here. The loader only keeps
   * an app's problems when the process runs that app; its schema is checked either way.
   */
  problem: Problem;
}

/** An app's variables (a zod object schema) and how they become its typed settings. */
export interface AppConfigDefinition<Shape extends z.ZodRawShape, Settings> {
  schema: z.ZodObject<Shape>;
  settings(env: z.output<z.ZodObject<Shape>>, context: SettingsContext): Settings;
}

/** Declares an app's configuration with its types inferred from the schema. */
export const defineAppConfig = <Shape extends z.ZodRawShape, Settings>(
  definition: AppConfigDefinition<Shape, Settings>,
) => definition;
