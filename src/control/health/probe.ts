/** One health probe: an HTTP request (status checked) or, without a path, a TCP connect. */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { HealthCheckSpec } from '../../config/pool-schema';

const BODY_LIMIT = 64 * 1024;

/** Resolves '' when healthy, else the reason. Never rejects. */
export function probe(url: URL, spec: HealthCheckSpec): Promise<string> {
  return spec.path === undefined ? tcpProbe(url, spec.timeout) : httpProbe(url, spec);
}

/** URL.hostname keeps an IPv6 literal's brackets; sockets want the bare address. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

function defaultPort(url: URL): number {
  return url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

function tcpProbe(url: URL, timeout: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostOf(url), port: defaultPort(url) });
    const done = (reason: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => done(`no TCP connection within ${timeout}ms`), timeout);
    socket.once('connect', () => done(''));
    socket.once('error', (err) => done(err.message));
  });
}

function httpProbe(url: URL, spec: HealthCheckSpec): Promise<string> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const done = (reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(reason);
    };
    const req = client.request({
      host: hostOf(url),
      port: defaultPort(url),
      path: spec.path,
      method: spec.method,
      agent: false,
      headers: { 'user-agent': 'ngate-health-check', ...spec.headers, connection: 'close' },
      rejectUnauthorized: false, // health, not identity: the data path verifies certificates
    });
    const timer = setTimeout(() => done(`no response within ${spec.timeout}ms`), spec.timeout);
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      const ok = spec.expectStatus === undefined ? status >= 200 && status < 400 : spec.expectStatus.includes(status);
      const expected = spec.expectBody;
      if (!ok || expected === undefined) {
        res.resume();
        return done(ok ? '' : `status ${status}`);
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.includes(expected)) done('');
        else if (body.length > BODY_LIMIT) done(`body does not contain ${JSON.stringify(expected)} in its first ${BODY_LIMIT} bytes`);
      });
      res.once('end', () => done(body.includes(expected) ? '' : `body does not contain ${JSON.stringify(expected)}`));
    });
    req.once('error', (err) => done(err.message));
    req.end();
  });
}
