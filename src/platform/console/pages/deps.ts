// What the platform's console pages read from: the same objects the service's API routes use.
import type { LanguageModels } from '../../ai/client.ts';
import type { Channels } from '../../channels/channels.ts';
import type { Database } from '../../db/database.ts';
import type { ComponentCheck } from '../../health.ts';
import type { ServiceInfo } from '../../http/ops-routes.ts';
import type { JobSystem } from '../../jobs/job-system.ts';
import type { JobDefinitions } from '../../jobs/registry.ts';
import type { SafeHtml } from '../html.ts';
import type { AttentionItem, PageView } from '../ui.ts';

export interface PlatformPageDeps {
  db: Database;
  jobs: JobSystem<JobDefinitions>;
  channels: Channels;
  /** The components /health/status reports. */
  checks: ComponentCheck[];
  info: () => ServiceInfo;
  ai: LanguageModels;
  /** Every app's "needs a person" items, merged. */
  attention: (limit: number) => Promise<AttentionItem[]>;
  sandboxPanels: (view: PageView) => Promise<SafeHtml[]>;
  /** The sandbox SMS number people text (empty when SMS has a provider). */
  smsNumber: string;
  defaultRegion: string | undefined;
}
