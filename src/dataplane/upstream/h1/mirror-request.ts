import type { Dispatcher } from 'undici';

/** What the mirror reads of a response: its status, and a body it only drains. */
export interface MirrorResponse {
  readonly statusCode: number;
  readonly body: { dump(): Promise<void> };
}

/** A dispatch handler that turns one exchange into a promise of a MirrorResponse. */
export class MirrorRequest implements Dispatcher.DispatchHandler, MirrorResponse {
  readonly response: Promise<MirrorResponse>;
  statusCode = 0;
  readonly body: { dump(): Promise<void> };
  private resolve!: (res: MirrorResponse) => void;
  private reject!: (err: Error) => void;
  private ended: Promise<void>;
  private endResolve!: () => void;

  constructor() {
    this.response = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.ended = new Promise((resolve) => (this.endResolve = resolve));
    const ended = this.ended;
    this.body = { dump: () => ended };
  }

  /** Its presence is what tells undici this is a handler of its current interface (without it, undici refuses it). */
  onRequestStart(): void {}

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void {
    if (statusCode < 200) return;
    this.statusCode = statusCode;
    this.resolve(this);
  }

  onResponseEnd(): void {
    this.endResolve();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.reject(err);
    this.endResolve();
  }
}
