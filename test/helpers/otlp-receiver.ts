// A local OpenTelemetry collector for tests: accepts OTLP/HTTP trace exports at /v1/traces, in
// protobuf (the SDK's default) or JSON, and keeps every span with its resource's attributes. The
// protobuf is read with a small wire-format decoder over the fields of the published OTLP schema
// (opentelemetry/proto/trace/v1/trace.proto, common/v1/common.proto); nothing else is needed.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type AttributeValue = string | number | boolean | null;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, AttributeValue>;
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
  resource: Record<string, AttributeValue>;
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  /** How the exports arrived (content types), to tell which protocol the SDK used. */
  contentTypes: string[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const type = String(request.headers['content-type'] ?? '');
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      contentTypes.push(type);
      const body = Buffer.concat(chunks);
      spans.push(
        ...(type.includes('json') ? fromJson(JSON.parse(body.toString('utf8'))) : fromProtobuf(body)),
      );
      // An empty ExportTraceServiceResponse: everything accepted.
      response.writeHead(200, { 'content-type': type.includes('json') ? 'application/json' : type });
      response.end(type.includes('json') ? '{}' : Buffer.alloc(0));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// --- protobuf wire format -------------------------------------------------------------------

type Field = { no: number; varint?: bigint; bytes?: Buffer; fixed64?: Buffer };

function* fields(buffer: Buffer): Generator<Field> {
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buffer[at++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
      shift += 7n;
    }
  };
  while (at < buffer.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) yield { no, varint: varint() };
    else if (wire === 1) {
      yield { no, fixed64: buffer.subarray(at, at + 8) };
      at += 8;
    } else if (wire === 2) {
      const length = Number(varint());
      yield { no, bytes: buffer.subarray(at, at + length) };
      at += length;
    } else if (wire === 5) at += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

const text = (bytes: Buffer | undefined) => bytes?.toString('utf8') ?? '';

function anyValue(buffer: Buffer): AttributeValue {
  for (const f of fields(buffer)) {
    if (f.no === 1) return text(f.bytes);
    if (f.no === 2) return f.varint === 1n;
    if (f.no === 3) return Number(BigInt.asIntN(64, f.varint ?? 0n));
    if (f.no === 4) return f.fixed64?.readDoubleLE(0) ?? null;
  }
  return null;
}

function keyValues(list: Buffer[]): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const buffer of list) {
    let key = '';
    let value: AttributeValue = null;
    for (const f of fields(buffer)) {
      if (f.no === 1) key = text(f.bytes);
      if (f.no === 2 && f.bytes) value = anyValue(f.bytes);
    }
    out[key] = value;
  }
  return out;
}

const repeated = (buffer: Buffer, no: number) =>
  [...fields(buffer)].filter((f) => f.no === no && f.bytes).map((f) => f.bytes as Buffer);

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const resourceSpans of repeated(body, 1)) {
    const resourceBytes = repeated(resourceSpans, 1)[0];
    const resource = resourceBytes ? keyValues(repeated(resourceBytes, 1)) : {};
    for (const scopeSpans of repeated(resourceSpans, 2)) {
      for (const span of repeated(scopeSpans, 2)) {
        const s: ReceivedSpan = {
          traceId: '',
          spanId: '',
          parentSpanId: '',
          name: '',
          kind: 0,
          attributes: {},
          statusCode: 0,
          resource,
        };
        const attributes: Buffer[] = [];
        for (const f of fields(span)) {
          if (f.no === 1) s.traceId = f.bytes?.toString('hex') ?? '';
          else if (f.no === 2) s.spanId = f.bytes?.toString('hex') ?? '';
          else if (f.no === 4) s.parentSpanId = f.bytes?.toString('hex') ?? '';
          else if (f.no === 5) s.name = text(f.bytes);
          else if (f.no === 6) s.kind = Number(f.varint);
          else if (f.no === 9 && f.bytes) attributes.push(f.bytes);
          else if (f.no === 15 && f.bytes)
            for (const g of fields(f.bytes)) if (g.no === 3) s.statusCode = Number(g.varint);
        }
        s.attributes = keyValues(attributes);
        out.push(s);
      }
    }
  }
  return out;
}

// --- JSON (OTEL_EXPORTER_OTLP_PROTOCOL=http/json) --------------------------------------------

interface JsonKeyValue {
  key: string;
  value: {
    stringValue?: string;
    boolValue?: boolean;
    intValue?: string | number;
    doubleValue?: number;
  };
}

const jsonAttributes = (list: JsonKeyValue[] = []) =>
  Object.fromEntries(
    list.map(({ key, value }) => [
      key,
      value.stringValue ??
        value.boolValue ??
        (value.intValue !== undefined ? Number(value.intValue) : (value.doubleValue ?? null)),
    ]),
  );

function fromJson(body: {
  resourceSpans?: Array<{
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: Array<{
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: JsonKeyValue[];
        status?: { code?: number };
      }>;
    }>;
  }>;
}): ReceivedSpan[] {
  return (body.resourceSpans ?? []).flatMap((rs) =>
    (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        kind: span.kind,
        attributes: jsonAttributes(span.attributes),
        statusCode: span.status?.code ?? 0,
        resource: jsonAttributes(rs.resource?.attributes),
      })),
    ),
  );
}
