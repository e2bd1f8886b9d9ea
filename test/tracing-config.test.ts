// When tracing is on, what the OpenTelemetry SDK is handed, and what is kept out of logs: the
// platform reads only the two endpoint variables itself; every OTEL_* variable, from the
// environment or the .env file, goes to the SDK as given.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readEnvironment } from '../src/config.ts';
import { configSecrets } from '../src/platform/secrets.ts';

describe('tracing configuration', () => {
  it('is off without an OTLP endpoint, whatever other OTEL_* variables say', () => {
    const config = loadConfig({ OTEL_SERVICE_NAME: 'billing-bots', OTEL_TRACES_SAMPLER: 'always_on' });
    expect(config.tracing).toMatchObject({ enabled: false, endpoint: null });
  });

  it('is on with an endpoint, the traces URL winning over the base URL, and hands the SDK every OTEL_* variable', () => {
    const config = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/v1/traces',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod',
      PORT: '3001',
    });
    expect(config.tracing).toEqual({
      enabled: true,
      endpoint: 'https://traces.example.com/v1/traces',
      variables: {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/v1/traces',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod',
      },
    });
  });

  it('stays off with OTEL_SDK_DISABLED=true', () => {
    const config = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'TRUE' });
    expect(config.tracing.enabled).toBe(false);
  });

  it('refuses an endpoint that is not an http(s) URL, naming the variable', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'otel-collector:4318' })).toThrow(ConfigError);
    try {
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'otel-collector:4318' });
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['OTEL_EXPORTER_OTLP_ENDPOINT']);
    }
  });

  it('takes the variables from the .env file too, the environment winning', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-otel-'));
    try {
      writeFileSync(
        path.join(dir, '.env'),
        'OTEL_EXPORTER_OTLP_ENDPOINT=http://from-file:4318\nOTEL_SERVICE_NAME=from-file\n',
      );
      const config = loadConfig(readEnvironment(dir, { OTEL_SERVICE_NAME: 'from-env' }), { cwd: dir });
      expect(config.tracing).toMatchObject({
        enabled: true,
        variables: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://from-file:4318', OTEL_SERVICE_NAME: 'from-env' },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("treats the exporter's header values as secrets (a vendor's API key), as given and URL-decoded", () => {
    const secrets = configSecrets(
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://api.honeycomb.io',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-honeycomb-team=hcaik_01abcdefgh,authorization=Bearer%20tok-0123456789',
      }),
    );
    expect(secrets).toEqual(
      expect.arrayContaining(['hcaik_01abcdefgh', 'Bearer%20tok-0123456789', 'Bearer tok-0123456789']),
    );
  });
});
