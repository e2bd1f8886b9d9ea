// The bots this build ships, in the order they start. Each lives in its own folder and imports
// only from platform/.
import type { AppModule } from '../platform/app-module.ts';
import { creditsApp } from './credits/app.ts';
import { dailyApp } from './daily/app.ts';
import { invoicesApp } from './invoices/app.ts';
import { paymentsApp } from './payments/app.ts';

export const builtInApps: AppModule[] = [invoicesApp, dailyApp, creditsApp, paymentsApp];
