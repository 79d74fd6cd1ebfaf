import * as dgram from 'node:dgram';

export interface StubDns {
  /** "127.0.0.1:PORT", for `--dns-server`. */
  readonly server: string;
  /** name (lowercase, no trailing dot) → IPv4 addresses; a missing name is NXDOMAIN. */
  readonly records: Map<string, string[]>;
  /** TTL put on every answer, in seconds. */
  ttl: number;
  /** While true every query is answered SERVFAIL. */
  failing: boolean;
  /** A queries answered, by name. */
  readonly queries: Map<string, number>;
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

/** A tiny authoritative DNS server on loopback UDP: A records from a mutable map, nothing else. */
export async function startStubDns(records: Record<string, string[]> = {}): Promise<StubDns> {
  const socket = dgram.createSocket('udp4');
  const stub: StubDns = {
    server: '',
    records: new Map(Object.entries(records)),
    ttl: 1,
    failing: false,
    queries: new Map(),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    const { name, end } = readName(msg, 12);
    const qtype = msg.readUInt16BE(end);
    const question = msg.subarray(12, end + 4);
    const addresses = stub.records.get(name);
    let rcode = 0;
    let answers: string[] = [];
    if (stub.failing) rcode = 2;
    else if (addresses === undefined) rcode = 3;
    else if (qtype === 1) answers = addresses;
    if (qtype === 1) stub.queries.set(name, (stub.queries.get(name) ?? 0) + 1);
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2); // QR AA (+RD) RA rcode
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const records = answers.map((a) => {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
      rr.writeUInt16BE(1, 2); // A
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(stub.ttl, 6);
      rr.writeUInt16BE(4, 10);
      a.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
      return rr;
    });
    socket.send(Buffer.concat([header, question, ...records]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  (stub as { server: string }).server = `127.0.0.1:${socket.address().port}`;
  return stub;
}
