/**
 * The part of the uWebSockets.js API ngate uses. Declared here so that the
 * build does not depend on which optional uWS package is installed.
 */
export type RecognizedString = string | ArrayBuffer | Uint8Array;

export interface UwsHttpResponse {
  writeStatus(status: RecognizedString): UwsHttpResponse;
  writeHeader(key: RecognizedString, value: RecognizedString): UwsHttpResponse;
  write(chunk: RecognizedString): boolean;
  end(body?: RecognizedString, closeConnection?: boolean): UwsHttpResponse;
  endWithoutBody(reportedContentLength?: number, closeConnection?: boolean): UwsHttpResponse;
  tryEnd(chunk: RecognizedString, totalSize: number): [boolean, boolean];
  close(): UwsHttpResponse;
  getWriteOffset(): number;
  onWritable(handler: (offset: number) => boolean): UwsHttpResponse;
  onAborted(handler: () => void): UwsHttpResponse;
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): UwsHttpResponse;
  getRemoteAddressAsText(): ArrayBuffer;
  cork(cb: () => void): UwsHttpResponse;
  pause(): void;
  resume(): void;
  upgrade<T>(userData: T, secWebSocketKey: string, secWebSocketProtocol: string, secWebSocketExtensions: string, context: UwsSocketContext): void;
}

export interface UwsHttpRequest {
  getHeader(lowerCaseKey: string): string;
  getUrl(): string;
  getMethod(): string;
  getCaseSensitiveMethod?(): string;
  getQuery(): string | undefined;
  forEach(cb: (key: string, value: string) => void): void;
}

export type UwsListenSocket = object;
/** The opaque uWS socket context an upgrade hands to `res.upgrade`. */
export type UwsSocketContext = object;

/** A uWS WebSocket, valid from `open` until `close`. */
export interface UwsWebSocket<T> {
  /** 1 sent, 0 sent but buffered (backpressure), 2 dropped (over maxBackpressure). */
  send(message: RecognizedString, isBinary?: boolean): number;
  getBufferedAmount(): number;
  /** Close frame with code and reason; calls the close handler at once. */
  end(code?: number, shortMessage?: RecognizedString): void;
  /** Hard close, no close frame; calls the close handler at once. */
  close(): void;
  cork(cb: () => void): UwsWebSocket<T>;
  getUserData(): T;
  /** Not in every build: stops reading from the client (backpressure toward the client). */
  pause?(): void;
  resume?(): void;
}

export interface UwsWebSocketBehavior<T> {
  maxPayloadLength?: number;
  idleTimeout?: number;
  maxBackpressure?: number;
  sendPingsAutomatically?: boolean;
  upgrade?: (res: UwsHttpResponse, req: UwsHttpRequest, context: UwsSocketContext) => void;
  open?: (ws: UwsWebSocket<T>) => void;
  message?: (ws: UwsWebSocket<T>, message: ArrayBuffer, isBinary: boolean) => void;
  drain?: (ws: UwsWebSocket<T>) => void;
  close?: (ws: UwsWebSocket<T>, code: number, message: ArrayBuffer) => void;
  ping?: (ws: UwsWebSocket<T>, message: ArrayBuffer) => void;
  pong?: (ws: UwsWebSocket<T>, message: ArrayBuffer) => void;
}

export interface UwsApp {
  any(pattern: string, handler: (res: UwsHttpResponse, req: UwsHttpRequest) => void): UwsApp;
  ws<T>(pattern: string, behavior: UwsWebSocketBehavior<T>): UwsApp;
  listen(host: string, port: number, cb: (listenSocket: UwsListenSocket | false) => void): UwsApp;
  addServerName?(hostname: string, options: Record<string, unknown>): UwsApp;
  /** Routes registered after this call serve connections whose SNI is `hostname`. */
  domain?(hostname: string): UwsApp;
  /** Called during a handshake whose SNI name matches none added; a name added from it is matched again at once. */
  missingServerName?(handler: (hostname: string) => void): UwsApp;
}

export interface UwsModule {
  App(options?: Record<string, unknown>): UwsApp;
  SSLApp(options: Record<string, unknown>): UwsApp;
  us_listen_socket_close(listenSocket: UwsListenSocket): void;
}
