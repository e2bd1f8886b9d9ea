// One invoice alert and one credit request followed end to end in OpenTelemetry traces, as an operator would follow it: the
// real CLI with OTEL_EXPORTER_OTLP_ENDPOINT set, exporting (the SDK's default protobuf over HTTP)
// to a local collector. On PostgreSQL the API and the workers are separate processes, as in the
// Kubernetes deployment, so the trace crosses from one to the other through the job's row.
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from './helpers/databases.ts';
import { startOtlpReceiver } from './helpers/otlp-receiver.ts';
import { freePort, type Running, spawnCli } from './helpers/processes.ts';
import { waitFor } from './helpers/wait.ts';

const kind = TEST_DATABASE_URL ? 'postgres' : 'pglite';
const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;

describe(`traces of an invoice alert and a credit request (${kind}: ${kind === 'postgres' ? 'http and worker processes' : 'one process'})`, () => {
  const started: Running[] = [];
  let target: TestDatabase | null = null;
  const receiver = startOtlpReceiver();

  afterAll(async () => {
    for (const process of started) process.child.kill('SIGKILL');
    await (await receiver).close();
    await target?.drop();
  });

  it('links each request to the jobs it causes and their provider calls, in one trace per request', async () => {
    const collector = await receiver;
    target = await createTestDatabase(kind);
    const env = {
      ...(target.config.kind === 'postgres'
        ? { DATABASE_URL: target.config.url }
        : { DATA_DIR: target.config.dataDir }),
      SWITCHBOARD_APPS: 'invoices,credits',
      NOTIFICATION_RECIPIENTS: 'ap@example.com',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: 'switchboard-under-test',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=tracing-test',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      LOG_LEVEL: 'info',
    };
    const modes = kind === 'postgres' ? ['http', 'worker'] : ['start'];
    const urls: string[] = [];
    for (const mode of modes) {
      const port = await freePort();
      const running = spawnCli([mode], { ...env, PORT: String(port) });
      started.push(running);
      const url = `http://127.0.0.1:${port}`;
      await waitFor(
        `${mode} to be ready`,
        async () => {
          if (running.child.exitCode !== null) throw new Error(`${mode} exited: ${running.output()}`);
          return (await fetch(`${url}/health/ready`).catch(() => null))?.ok;
        },
        90_000,
        100,
      );
      urls.push(url);
    }
    const api = urls[0] as string;

    const created = await fetch(`${api}/invoices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'TRACE-1',
        vendor_name: 'Acme Supplies',
        total_minor: 494880,
        currency: 'USD',
        matched_status: 'NEEDS_REVIEW',
        invoice_link: 'https://ap.example.com/invoices/TRACE-1',
      }),
    });
    expect(created.status).toBe(201);
    const scan = await fetch(`${api}/invoices/scans`, { method: 'POST' });
    expect(scan.status).toBe(201);

    const message = await waitFor('the alert to be delivered (the sandbox delivers at once)', async () => {
      const listed = (await (await fetch(`${api}/outbox?key=invoice:TRACE-1:*`)).json()) as {
        messages: Array<{ id: string; dedupeKey: string; status: string }>;
      };
      return listed.messages.find((m) => m.status === 'delivered');
    });
    expect(message.dedupeKey).toBe('invoice:TRACE-1:email:ap@example.com');

    // Each process exports its spans on its own schedule: wait for the whole chain, not just its end.
    const { send, trace } = await waitFor('the provider send, its job and the request, in one trace', () => {
      const send = collector.spans.find((s) => s.kind === CLIENT && s.attributes['outbox.id'] === message.id);
      if (!send) return undefined;
      const trace = collector.spans.filter((s) => s.traceId === send.traceId);
      const job = trace.find((s) => s.spanId === send.parentSpanId);
      const request = job && trace.find((s) => s.spanId === job.parentSpanId);
      return request ? { send, trace } : undefined;
    });
    expect(send).toMatchObject({
      name: 'send email',
      attributes: {
        'outbox.dedupe_key': 'invoice:TRACE-1:email:ap@example.com',
        'outbox.channel': 'email',
        'outbox.driver': 'sandbox',
      },
    });
    const job = trace.find((s) => s.spanId === send.parentSpanId);
    expect(job).toMatchObject({
      name: 'process outbox.deliver',
      kind: CONSUMER,
      attributes: { 'messaging.system': 'pg-boss', 'messaging.destination.name': 'outbox.deliver' },
    });
    const request = trace.find((s) => s.spanId === job?.parentSpanId);
    expect(request).toMatchObject({
      name: 'POST /invoices/scans',
      kind: SERVER,
      parentSpanId: '',
      attributes: { 'http.route': '/invoices/scans', 'http.response.status_code': 201 },
    });

    // The standard variables decide the resource; the process's role is told apart.
    const mode = (span: typeof send | undefined) => span?.resource['switchboard.mode'];
    expect(request?.resource).toMatchObject({
      'service.name': 'switchboard-under-test',
      'deployment.environment.name': 'tracing-test',
      'service.version': expect.any(String),
    });
    expect([mode(request), mode(job), mode(send)]).toEqual(
      kind === 'postgres' ? ['http', 'worker', 'worker'] : ['start', 'start', 'start'],
    );
    // Protobuf, the SDK's default protocol; and no span for the readiness probes polled above.
    expect(collector.contentTypes.every((type) => type === 'application/x-protobuf')).toBe(true);
    expect(collector.spans.filter((s) => String(s.attributes['url.path']).startsWith('/health'))).toEqual([]);

    // A credit request, as a person posts it in Slack (the sandbox channel), to CreditBot's reply.
    const posted = await fetch(`${api}/sandbox/slack/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        channel: '#credit_memo_testing',
        text: 'Please process this credit request https://looker.sandbox.localhost/looks/1',
      }),
    });
    expect(posted.status).toBe(201);
    // As above: the chain from the reply back to its root, once every process has exported its part.
    const chainOf = (reply: (typeof collector.spans)[number]) => {
      const spansOf = collector.spans.filter((s) => s.traceId === reply.traceId);
      const chain: Array<(typeof collector.spans)[number]> = [];
      for (
        let at: typeof reply | undefined = reply;
        at;
        at = spansOf.find((s) => s.spanId === at?.parentSpanId)
      )
        chain.unshift(at);
      return { spansOf, chain };
    };
    const {
      reply,
      spansOf,
      chain: spans,
    } = await waitFor('the reply sent to Slack, traced to its request', () => {
      const reply = collector.spans.find(
        (s) => s.name === 'send slack' && String(s.attributes['outbox.dedupe_key']).endsWith(':reply'),
      );
      const found = reply && chainOf(reply);
      return found && found.chain[0]?.parentSpanId === '' ? { reply, ...found } : undefined;
    });
    const chain = spans.map((span) => span.name);
    expect(chain).toEqual([
      'POST /sandbox/slack/messages',
      'process credits.process',
      'process outbox.deliver',
      'send slack',
    ]);
    const creditJob = spansOf.find((s) => s.name === 'process credits.process');
    // The Look's query, read under the request's job (the sandbox's sample Looks here; Looker in production).
    expect(
      spansOf.filter((s) => s.parentSpanId === creditJob?.spanId && s.kind === CLIENT).map((s) => s.name),
    ).toEqual(expect.arrayContaining(['sandbox query id', 'sandbox query sql']));
    // The job's log lines carry its trace and span ids: from a trace to its logs and back.
    const answered = started
      .flatMap((p) => p.output().split('\n'))
      .filter((line) => line.includes('"credit request answered"'))
      .map((line) => JSON.parse(line) as { trace_id?: string; span_id?: string });
    expect(answered).toEqual([
      expect.objectContaining({ trace_id: reply.traceId, span_id: creditJob?.spanId }),
    ]);

    for (const process of started) process.child.kill('SIGTERM');
    for (const process of started) expect((await process.exited).code).toBe(0);
  }, 180_000);
});
