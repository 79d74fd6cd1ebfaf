import { Client, Pool, type Dispatcher } from 'undici';

/**
 * undici's Pool, plus a request on a connection of its own: the resend of a
 * request whose reused keep-alive socket the upstream had closed must not
 * meet another such socket. The one-off client closes once it answered.
 */
export class UndiciPool extends Pool {
  /** Set for HTTP/1.1; an h2 pool reports stream errors as they come. */
  readonly failsOnClose: boolean;
  private readonly clientOptions: Client.Options;

  constructor(
    private readonly origin: string,
    options: Pool.Options,
  ) {
    super(origin, options);
    this.failsOnClose = options.allowH2 !== true;
    const { connections: _connections, ...rest } = options;
    this.clientOptions = rest;
  }

  dispatchFresh(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const client = new Client(this.origin, this.clientOptions);
    const queued = client.dispatch(opts, handler);
    client.close().catch(() => undefined);
    return queued;
  }
}
