// What a bot (src/apps/<name>) gives the platform: its queues and handlers, its routes, and the
// health checks of the providers it depends on. The platform never imports an app; main.ts wires
// the enabled ones in.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import type { LanguageModels } from './ai/client.ts';
import type { Channels } from './channels/channels.ts';
import type { ConsoleUi } from './console/ui.ts';
import type { Database } from './db/database.ts';
import type { ComponentCheck } from './health.ts';
import type { JobSystem } from './jobs/job-system.ts';
import type { JobDefinitions } from './jobs/registry.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

export interface AppContext<D extends JobDefinitions = JobDefinitions> {
  config: Config;
  db: Database;
  /** The job system, typed with the app's own queues. */
  jobs: JobSystem<D>;
  /** Every outbound message goes through `channels.enqueue`; inbound SMS arrive via `channels.onInboundSms`. */
  channels: Channels;
  log: Logger;
  metrics: Metrics;
  /** The configured language model (or the offline fallback), shared by every app. */
  ai: LanguageModels;
}

export interface AppModule<D extends JobDefinitions = JobDefinitions> {
  name: string;
  jobs?: D;
  /** Registers job handlers; called in every process, before the job system starts. */
  setup?: (context: AppContext<D>) => Promise<void> | void;
  /** Adds HTTP routes; called in processes that serve the API. */
  routes?: (app: FastifyInstance, context: AppContext<D>) => Promise<void> | void;
  /** Called once the job system runs (schedules are created here). */
  started?: (context: AppContext<D>) => Promise<void> | void;
  /**
   * Adds the app's operator console pages, actions and "needs a person" items; called in processes
   * that serve the console. Import the page code inside it, so a worker never loads it.
   */
  console?: (ui: ConsoleUi, context: AppContext<D>) => Promise<void> | void;
  checks?: (context: AppContext<D>) => ComponentCheck[];
  /** Releases what the app holds (connections to its own sources); called on shutdown. */
  stop?: (context: AppContext<D>) => Promise<void>;
}

/**
 * Declares an app with its queues, so its handlers and sends are typed by its own registry. The
 * platform holds every app as an `AppModule` over the merged registry of all of them.
 */
export const defineApp = <D extends JobDefinitions>(app: AppModule<D>): AppModule =>
  app as unknown as AppModule;
