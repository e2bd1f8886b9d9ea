// What a bot (src/apps/<name>) gives the platform: its queues and handlers, its routes, and the
// health checks of the providers it depends on. The platform never imports an app; main.ts wires
// the enabled ones in.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import type { Database } from './db/database.ts';
import type { ComponentCheck } from './health.ts';
import type { JobSystem } from './jobs/job-system.ts';
import type { JobDefinitions } from './jobs/registry.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

export interface AppContext {
  config: Config;
  db: Database;
  // Each app sees the whole registry; its own names are checked where it defines them.
  jobs: JobSystem<JobDefinitions>;
  log: Logger;
  metrics: Metrics;
}

export interface AppModule {
  name: string;
  jobs?: JobDefinitions;
  /** Registers job handlers and schedules; called in every process, before the job system starts. */
  setup?: (context: AppContext) => Promise<void> | void;
  /** Adds HTTP routes; called in processes that serve the API. */
  routes?: (app: FastifyInstance, context: AppContext) => Promise<void> | void;
  /** Called once the job system runs (schedules are created here). */
  started?: (context: AppContext) => Promise<void> | void;
  checks?: (context: AppContext) => ComponentCheck[];
}
