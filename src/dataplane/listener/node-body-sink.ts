import { constants, Http2ServerResponse } from 'node:http2';
import type { Writable } from 'node:stream';
import type { BodySink, RequestContext, StreamedBody } from '../context';
import type { NodeResponse } from './node-exchange';
import { trailerObject } from '../upstream/trailers';

/**
 * Streams an upstream body to a node:http / node:http2 response: `write`
 * returning false pauses the upstream until `drain`. Node frames it
 * (Content-Length when set, else chunked on HTTP/1.1, close-delimited on
 * HTTP/1.0, DATA frames on h2). Upstream trailers go out with the end: a
 * trailing HEADERS frame on h2, the chunked trailer section on HTTP/1.1 (node
 * discards them when the response is not chunked: a Content-Length, HTTP/1.0).
 */
export class NodeBodySink implements BodySink {
  constructor(
    private readonly res: NodeResponse,
    private readonly ctx: RequestContext,
    private readonly body: StreamedBody,
    private readonly onDone: () => void,
  ) {}

  private readonly onDrain = (): void => this.body.resume();

  write(chunk: Buffer): boolean {
    if (this.ctx.aborted) return true;
    this.ctx.bytesOut += chunk.length;
    const ok = (this.res as Writable).write(chunk);
    if (!ok) this.res.once('drain', this.onDrain);
    return ok;
  }

  end(): void {
    if (this.ctx.aborted) return;
    // Node would end a short Content-Length body as if complete (HTTP/2) or leave it open: abortive instead.
    if (this.ctx.bytesOut < this.body.length) return this.abort();
    const trailers = this.body.trailers;
    if (trailers != null) this.addTrailers(trailers);
    this.res.end();
    this.onDone();
  }

  private addTrailers(trailers: string[]): void {
    try {
      this.res.addTrailers(trailerObject(trailers));
    } catch (err) {
      // A field node refuses (invalid characters): the body is whole, only the trailers are lost.
      process.emitWarning(`ngate: response trailers refused by node: ${(err as Error).message}`);
    }
  }

  abort(): void {
    if (this.ctx.aborted) return;
    this.ctx.aborted = true;
    // Abortive: the client must never see a clean end of a truncated body. On h2 a bare destroy()
    // sends RST_STREAM(NO_ERROR), which clients read as a complete response: INTERNAL_ERROR, as Envoy.
    if (this.res instanceof Http2ServerResponse) this.res.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    else this.res.destroy();
    this.onDone();
  }
}
