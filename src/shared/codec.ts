import { Packr } from 'msgpackr';

/** One shared encoder for every message between threads (records keep repeated shapes small). */
const packr = new Packr({ useRecords: false, moreTypes: true });

export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function decode<T>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}
