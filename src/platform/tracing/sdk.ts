// The OpenTelemetry SDK, loaded only when tracing is on (tracing.ts imports this file then). It is
// the SDK's own start-from-environment, so the standard variables mean what they mean everywhere:
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG), OTEL_EXPORTER_OTLP_HEADERS,
// OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL (http/protobuf by default, http/json, grpc), OTEL_PROPAGATORS,
// OTEL_BSP_*, OTEL_SDK_DISABLED. Traces only: Switchboard's metrics are Prometheus's, at /metrics.
import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { startNodeSdk } from '@opentelemetry/sdk-node';
import type { Config } from '../../config.ts';
import type { Logger } from '../log.ts';
import { SERVICE_NAME, SERVICE_VERSION } from '../version.ts';

export function startSdk(
  config: Config['tracing'],
  options: { log: Logger; mode: string },
): { shutdown(): Promise<void> } {
  // The SDK reads its variables from the process environment; those given in the .env file reach
  // it through here. The environment wins, as it does for every other variable.
  for (const [name, value] of Object.entries(config.variables)) process.env[name] ??= value;
  const sdk = startNodeSdk({
    // The lowest-priority attributes: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override them.
    baseResource: defaultResource().merge(
      resourceFromAttributes({
        'service.name': SERVICE_NAME,
        'service.version': SERVICE_VERSION,
        'switchboard.mode': options.mode,
      }),
    ),
    metricReaders: [],
    logRecordProcessors: [],
  });
  // The SDK's own complaints (a collector that does not answer) as log lines like any other.
  diag.setLogger(diagToPino(options.log.child({ component: 'opentelemetry' })), {
    logLevel: DIAG_LEVELS[(config.variables.OTEL_LOG_LEVEL ?? '').toLowerCase()] ?? DiagLogLevel.WARN,
    suppressOverrideMessage: true,
  });
  options.log.info(
    { endpoint: config.endpoint, protocol: config.variables.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf' },
    'tracing on: spans are exported over OTLP',
  );
  return sdk;
}

const DIAG_LEVELS: Record<string, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

function diagToPino(log: Logger): DiagLogger {
  const line =
    (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') =>
    (message: string, ...args: unknown[]) =>
      log[level](args.length ? { details: args.map(String) } : {}, message);
  return {
    error: line('error'),
    warn: line('warn'),
    info: line('info'),
    debug: line('debug'),
    verbose: line('trace'),
  };
}
