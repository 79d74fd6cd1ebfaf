import { statusLine } from './status-line';
import type { UwsHttpResponse } from './uws-api';

/**
 * The status line and every field of a response head in one uWS call.
 * uWS writes `HTTP/1.1 ` + the status text + CRLF, and each `writeHeader`
 * as `name: value` + CRLF, all verbatim: one native crossing and two string
 * copies per field. The fields joined by CRLF into the status text give the
 * same bytes for one crossing. A value with obs-text must go out as latin1
 * bytes (uWS writes a string as UTF-8, which would turn each byte above 0x7F
 * into two), so such a head goes field by field, that value as a Buffer.
 */
export function writeHead(res: UwsHttpResponse, status: number, fields: string[]): void {
  let head = statusLine(status);
  for (let i = 0; i < fields.length; i += 2) {
    const value = fields[i + 1] as string;
    if (!ascii(value)) {
      writeFieldByField(res, status, fields);
      return;
    }
    head += '\r\n' + (fields[i] as string) + ': ' + value;
  }
  res.writeStatus(head);
}

function writeFieldByField(res: UwsHttpResponse, status: number, fields: string[]): void {
  res.writeStatus(statusLine(status));
  for (let i = 0; i < fields.length; i += 2) {
    const value = fields[i + 1] as string;
    res.writeHeader(fields[i] as string, ascii(value) ? value : Buffer.from(value, 'latin1'));
  }
}

/** A loop rather than a regex: values are short and this runs for every field. */
function ascii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) return false;
  return true;
}
