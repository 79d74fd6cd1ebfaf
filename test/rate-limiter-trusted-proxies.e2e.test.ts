import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from './helpers/gateway';
import { http } from './helpers/http';
import { rateLimitedPipeline, routedServer } from './helpers/pipelines';

/** One request an hour per client: the second from the same client is 429. */
const limiter = (trusted: string): string => `rate: 1\n    per: 1h\n    key: ip${trusted === '' ? '' : `\n    trustedProxies: ${trusted}`}`;

describe('RateLimiter key: ip behind a load balancer (trustedProxies)', () => {
  let gw: Gateway;

  before(async () => {
    gw = await startGateway(
      [
        routedServer('web', [
          ['/trusted', 'trusted'],
          ['/untrusted', 'untrusted'],
          ['/plain', 'plain'],
        ]),
        rateLimitedPipeline('trusted', limiter('[127.0.0.1, "::1"]')),
        rateLimitedPipeline('untrusted', limiter('[10.0.0.0/8]')),
        rateLimitedPipeline('plain', limiter('')),
      ].join('---\n'),
      { workers: 1 },
    );
  });

  after(async () => {
    assert.equal(await gw?.stop(), 0);
  });

  const status = async (route: string, xff: string): Promise<number> => (await http(gw.url('web', route), { headers: { 'x-forwarded-for': xff } })).status;

  it('two clients behind a trusted proxy (the peer 127.0.0.1) get a bucket each', async () => {
    assert.equal(await status('/trusted', '198.51.100.1'), 200);
    assert.equal(await status('/trusted', '198.51.100.1'), 429);
    assert.equal(await status('/trusted', '198.51.100.2'), 200, 'another client behind the proxy is not limited by the first');
    assert.equal(await status('/trusted', '198.51.100.2'), 429);
  });

  it('the X-Forwarded-For of a peer that is not trusted is ignored: one bucket for the peer', async () => {
    assert.equal(await status('/untrusted', '198.51.100.1'), 200);
    assert.equal(await status('/untrusted', '198.51.100.2'), 429);
  });

  it('without trustedProxies the header is never trusted', async () => {
    assert.equal(await status('/plain', '198.51.100.1'), 200);
    assert.equal(await status('/plain', '198.51.100.2'), 429);
  });
});
