import { ConfigError } from '../config/errors';

/**
 * The traces endpoint for `value`, given as `source` (`--otlp`, `OTEL_EXPORTER_OTLP_ENDPOINT`):
 * as the OpenTelemetry spec reads OTEL_EXPORTER_OTLP_ENDPOINT, a base URL to which `v1/traces` is
 * appended, unless it ends in `/v1/traces` already. A ConfigError when it is not an http(s) URL.
 */
export function otlpTracesUrl(value: string, source: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError(`${source} ${JSON.stringify(value)} is not a URL: give the collector's OTLP/HTTP address, e.g. http://localhost:4318`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${source} ${JSON.stringify(value)} is not an http(s) URL: fluxloop exports over OTLP/HTTP, e.g. http://localhost:4318`);
  }
  if (/\/v1\/traces\/?$/.test(url.pathname)) return url.href;
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return url.href;
}
