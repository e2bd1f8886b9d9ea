// The bots this build ships, in the order they start. Each lives in its own folder and imports
// only from platform/. Their configuration modules (zod schemas, nothing else) are loaded always,
// so every variable is checked in every process; an app's own code, routes, jobs and SDKs are
// imported only when a process runs it (SWITCHBOARD_APPS).
import type { AppModule } from '../platform/app-module.ts';
import { creditsConfig } from './credits/config.ts';
import { dailyConfig } from './daily/config.ts';
import { invoicesConfig } from './invoices/config.ts';
import { paymentsConfig } from './payments/config.ts';

export const APP_NAMES = ['invoices', 'daily', 'credits', 'payments'] as const;
export type AppName = (typeof APP_NAMES)[number];

export const isAppName = (name: string): name is AppName => (APP_NAMES as readonly string[]).includes(name);

export const appConfigs = {
  invoices: invoicesConfig,
  daily: dailyConfig,
  credits: creditsConfig,
  payments: paymentsConfig,
};

const appLoaders: Record<AppName, () => Promise<AppModule>> = {
  invoices: async () => (await import('./invoices/app.ts')).invoicesApp,
  daily: async () => (await import('./daily/app.ts')).dailyApp,
  credits: async () => (await import('./credits/app.ts')).creditsApp,
  payments: async () => (await import('./payments/app.ts')).paymentsApp,
};

/** The named apps' modules, imported now, in the order given. */
export async function loadApps(names: readonly AppName[]): Promise<AppModule[]> {
  return Promise.all(names.map((name) => appLoaders[name]()));
}
