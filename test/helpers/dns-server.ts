import * as dgram from 'node:dgram';
import { isIP } from 'node:net';

export interface StubDns {
  /** "127.0.0.1:PORT", for `--dns-server`. */
  readonly server: string;
  /**
   * name (lowercase, no trailing dot) → addresses: A queries get its IPv4 ones, AAAA queries its IPv6
   * ones; a name without addresses of the asked family answers no records (ENODATA); a missing name is NXDOMAIN.
   */
  readonly records: Map<string, string[]>;
  /** TTL put on every answer, in seconds. */
  ttl: number;
  /** While true every query is answered SERVFAIL. */
  failing: boolean;
  /** A queries answered, by name. */
  readonly queries: Map<string, number>;
  /** AAAA queries answered, by name. */
  readonly queries6: Map<string, number>;
  close(): Promise<void>;
}

function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = offset;
  while (i < msg.length) {
    const len = msg[i] as number;
    if (len === 0) return { name: labels.join('.').toLowerCase(), end: i + 1 };
    labels.push(msg.toString('latin1', i + 1, i + 1 + len));
    i += 1 + len;
  }
  throw new Error('truncated question');
}

/** The 16 bytes of an IPv6 address (`::` expanded). */
function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** A tiny authoritative DNS server on loopback UDP: A and AAAA records from a mutable map, nothing else. */
export async function startStubDns(records: Record<string, string[]> = {}): Promise<StubDns> {
  const socket = dgram.createSocket('udp4');
  const stub: StubDns = {
    server: '',
    records: new Map(Object.entries(records)),
    ttl: 1,
    failing: false,
    queries: new Map(),
    queries6: new Map(),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    const { name, end } = readName(msg, 12);
    const qtype = msg.readUInt16BE(end);
    const question = msg.subarray(12, end + 4);
    const addresses = stub.records.get(name);
    let rcode = 0;
    let answers: Buffer[] = [];
    if (stub.failing) rcode = 2;
    else if (addresses === undefined) rcode = 3;
    else if (qtype === 1) answers = addresses.filter((a) => isIP(a) === 4).map((a) => Buffer.from(a.split('.').map(Number)));
    else if (qtype === 28) answers = addresses.filter((a) => isIP(a) === 6).map(ipv6Bytes);
    if (qtype === 1) stub.queries.set(name, (stub.queries.get(name) ?? 0) + 1);
    if (qtype === 28) stub.queries6.set(name, (stub.queries6.get(name) ?? 0) + 1);
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2); // QR AA (+RD) RA rcode
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const records = answers.map((data) => {
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
      rr.writeUInt16BE(qtype, 2); // A or AAAA
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(stub.ttl, 6);
      rr.writeUInt16BE(data.length, 10);
      return Buffer.concat([rr, data]);
    });
    socket.send(Buffer.concat([header, question, ...records]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  (stub as { server: string }).server = `127.0.0.1:${socket.address().port}`;
  return stub;
}
