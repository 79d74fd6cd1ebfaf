import { duration, object, size, withDefault, type Infer, type Schema } from './schema-kit';

/**
 * The largest message any WebSocket route may allow. uWS takes its payload
 * limit once per listener, so it is set to this ceiling and each pool's
 * smaller `maxMessageSize` is enforced by the bridge (close code 1009).
 */
export const WS_MESSAGE_CEILING = 16 * 1024 * 1024;

const messageSize: Schema<number> = {
  describe: `a size up to 16m`,
  check(v, path, issues) {
    const bytes = size().check(v, path, issues);
    if (bytes === undefined) return undefined;
    if (bytes < 1 || bytes > WS_MESSAGE_CEILING) {
      issues.push({ path, message: `must be between 1 and 16m, got ${bytes} bytes` });
      return undefined;
    }
    return bytes;
  },
};

/** uWS closes a WebSocket silent for 960 s on its own, so a pool's idle timeout stays below that. */
export const WS_IDLE_CEILING = 15 * 60_000;

const idleTimeout: Schema<number> = {
  describe: 'a duration up to 15m',
  check(v, path, issues) {
    const ms = duration().check(v, path, issues);
    if (ms === undefined) return undefined;
    if (ms < 1 || ms > WS_IDLE_CEILING) {
      issues.push({ path, message: `must be between 1ms and 15m, got ${ms}ms` });
      return undefined;
    }
    return ms;
  },
};

/** WebSocket limits of a pool: a connection with no message either way for `idleTimeout` is closed (1001). */
export const websocketSchema = object(
  {
    idleTimeout: withDefault(idleTimeout, 300_000),
    maxMessageSize: withDefault(messageSize, 1024 * 1024),
  },
  { name: 'a websocket map' },
);
export type WebsocketSpec = Infer<typeof websocketSchema>;
export const WEBSOCKET_DEFAULTS: WebsocketSpec = { idleTimeout: 300_000, maxMessageSize: 1024 * 1024 };
