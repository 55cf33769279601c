import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small OTLP/HTTP collector on 127.0.0.1: it takes POST /v1/traces in the JSON encoding (the
 * exporter's default) and keeps the spans, each with its resource's attributes and its own
 * turned into plain values. `answer` can make it fail (an HTTP status) or never answer.
 */

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  /** Epoch milliseconds. */
  start: number;
  end: number;
  attributes: Record<string, unknown>;
  status: { code?: number; message?: string };
  resource: Record<string, unknown>;
}

export interface Receiver {
  /** `http://127.0.0.1:PORT` */
  url: string;
  spans: ReceivedSpan[];
  /** The requests' paths and headers, in order. */
  requests: Array<{ path: string; headers: http.IncomingHttpHeaders }>;
  close(): Promise<void>;
}

export async function startReceiver(answer: 'ok' | number | 'hang' = 'ok'): Promise<Receiver> {
  const spans: ReceivedSpan[] = [];
  const requests: Receiver['requests'] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    requests.push({ path: req.url ?? '', headers: req.headers });
    if (answer === 'hang') return;
    if (typeof answer === 'number') {
      res.writeHead(answer, { 'content-type': 'application/json' }).end('{"message":"no"}');
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    spans.push(...decode(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    requests,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** A port nothing listens on: one that was just given up. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function decode(body: any): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          name: s.name,
          kind: s.kind,
          start: Number(BigInt(s.startTimeUnixNano) / 1000n) / 1000,
          end: Number(BigInt(s.endTimeUnixNano) / 1000n) / 1000,
          attributes: attributes(s.attributes),
          status: s.status ?? {},
          resource,
        });
      }
    }
  }
  return out;
}

function attributes(list: Array<{ key: string; value: any }> | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, plain(value)]));
}

function plain(value: any): unknown {
  if (value === undefined || value === null) return undefined;
  if ('stringValue' in value) return value.stringValue;
  if ('boolValue' in value) return value.boolValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return value.doubleValue;
  if ('arrayValue' in value) return (value.arrayValue.values ?? []).map(plain);
  return value;
}
