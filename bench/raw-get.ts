import net from 'node:net';

export interface RawReply {
  status: number;
  body: string;
}

/**
 * One GET over its own keep-alive TCP connection, with the least client work: a request written as
 * bytes, the reply read up to its Content-Length. The 10,000-held row receives 10,000 answers at
 * once on the same two cores as the server; node:http's client (parser, agent, socket teardown per
 * response) cost more than the server's answers and was what that row measured. The socket is left
 * open, as a browser keeps its connection; `close()` ends them all after the measurement.
 */
export function rawGet(
  port: number,
  path: string,
  headers: Record<string, string>,
  timeoutMs: number,
): { reply: Promise<RawReply>; close(): void } {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  const head = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`]
    .concat(Object.entries(headers).map(([k, v]) => `${k}: ${v}`))
    .join('\r\n');
  const reply = new Promise<RawReply>((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
    let status = 0;
    let bodyStart = -1;
    let length = -1;
    const timer = setTimeout(() => socket.destroy(new Error('timeout')), timeoutMs);
    socket.once('connect', () => socket.write(`${head}\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      if (bodyStart < 0) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headText = received.subarray(0, end).toString('latin1');
        status = Number(headText.slice(9, 12));
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(headText);
        length = m ? Number(m[1]) : 0;
        bodyStart = end + 4;
      }
      if (received.length - bodyStart < length) return;
      clearTimeout(timer);
      resolve({ status, body: received.subarray(bodyStart, bodyStart + length).toString('utf8') });
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error('connection closed before the answer'));
    });
  });
  // An answer settles the promise first; a later close or error changes nothing.
  reply.catch(() => undefined);
  return { reply, close: () => socket.destroy() };
}
