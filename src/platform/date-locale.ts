// Switchboard computes with dates (send windows, quiet hours, schedules) and never writes one out in
// the machine's locale, so nothing it says depends on LANG. luxon, left to itself, asks ICU for that
// locale at its first DateTime (`new Intl.DateTimeFormat().resolvedOptions()`), which builds ICU's
// date formats for it: 35-58 ms of a worker's 542-606 ms of main-thread CPU to ready, for formats
// nothing uses (2026-12-02, two sets of 10-12 interleaved starts). Naming the locale skips that, and
// a bundled worker's start then constructs no Intl.DateTimeFormat at all. In the bundle
// pg-boss's cron-parser shares this luxon (scripts/bundle.mjs, oneLuxon); run from the sources it
// requires a CommonJS copy of its own, which keeps asking.
import { Settings } from 'luxon';

export const DATE_LOCALE = 'en-US';

export function fixDateLocale(): void {
  Settings.defaultLocale = DATE_LOCALE;
}
