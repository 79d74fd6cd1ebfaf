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

export interface UwsApp {
  any(pattern: string, handler: (res: UwsHttpResponse, req: UwsHttpRequest) => void): UwsApp;
  listen(host: string, port: number, cb: (listenSocket: UwsListenSocket | false) => void): UwsApp;
  addServerName?(hostname: string, options: Record<string, unknown>): UwsApp;
  /** Routes registered after this call serve connections whose SNI is `hostname`. */
  domain?(hostname: string): UwsApp;
}

export interface UwsModule {
  App(options?: Record<string, unknown>): UwsApp;
  SSLApp(options: Record<string, unknown>): UwsApp;
  us_listen_socket_close(listenSocket: UwsListenSocket): void;
}
