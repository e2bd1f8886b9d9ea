// Component checks shared by /health/ready, /health/status and `switchboard doctor`. Each check
// has a deadline, so a hung database answers "down" instead of hanging the probe.
import { errorText } from './redact.ts';

export interface ComponentCheck {
  name: string;
  /** Resolves (optionally with a detail such as the driver in use) when healthy; throws when not. */
  check: () => Promise<string | undefined>;
  /**
   * False for a component the service works without, in a degraded way (Redis: rate limits fall back
   * to each process's memory). Its outage shows in /health/ready as `degraded`, not as not ready.
   */
  critical?: boolean;
}

export interface ComponentStatus {
  name: string;
  status: 'up' | 'down';
  /** Present (false) on components the service can run without. */
  critical?: false;
  latencyMs: number;
  detail?: string;
  error?: string;
}

export async function runChecks(checks: ComponentCheck[], timeoutMs: number): Promise<ComponentStatus[]> {
  return Promise.all(checks.map((component) => runCheck(component, timeoutMs)));
}

async function runCheck(component: ComponentCheck, timeoutMs: number): Promise<ComponentStatus> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const detail = await Promise.race([component.check(), deadline]);
    return {
      name: component.name,
      status: 'up',
      ...(component.critical === false ? { critical: false as const } : {}),
      latencyMs: elapsed(started),
      ...(typeof detail === 'string' ? { detail } : {}),
    };
  } catch (error) {
    return {
      name: component.name,
      status: 'down',
      ...(component.critical === false ? { critical: false as const } : {}),
      latencyMs: elapsed(started),
      error: errorText(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 100) / 100;
