/**
 * `medner mllp`: the MLLP front door (issue 20). Interface engines (Mirth, Rhapsody,
 * Cloverleaf) send HL7 v2 over MLLP; each message goes onto the HL7 input topic and is
 * answered only after Kafka acknowledged it (acks = all):
 *   AA  on the topic;
 *   AE  not on the topic now (Kafka down or slow past MLLP_ACK_TIMEOUT_MS): the sender keeps it and retries;
 *   AR  never acceptable as sent: no MSH, a message type we do not take, over MLLP_MAX_MESSAGE_BYTES,
 *       bytes outside a frame.
 * Frames on one connection are answered in order (MLLP is request/response); connections are
 * independent (up to MLLP_MAX_CONNECTIONS), idle ones are closed after MLLP_IDLE_TIMEOUT_MS, and
 * TLS is used when a certificate and key are configured. An AE after a timeout can be followed by
 * the record landing after all; the sender's retry then writes it twice, which the pipeline's
 * deterministic ids make harmless (same resources, same versions).
 * Logs carry control ids' lengths, sizes and codes, never message content.
 */
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../ops/logger.ts';
import { MednerError, errorCode, errorFields } from '../core/errors.ts';
import type { ProducerPort } from '../kafka/client.ts';
import { acceptedType, buildAck, readMsh, type AckCode } from './ack.ts';
import { frame, MllpDecoder } from './frames.ts';

export interface MllpOptions {
  host: string;
  port: number;
  topic: string;
  producer: ProducerPort;
  logger: Logger;
  maxMessageBytes: number;
  idleTimeoutMs: number;
  ackTimeoutMs: number;
  maxConnections: number;
  tls?: { certFile: string; keyFile: string };
}

export interface MllpServer {
  readonly port: number;
  readonly counts: Record<AckCode, number>;
  close(): Promise<void>;
}

/** TXA-12 (the document id: one document's versions share a partition), else MSH-10. */
export function messageKey(bytes: Buffer, fieldSep: string, controlId: string): string {
  const text = bytes.toString('latin1');
  const txa = text.split(/\r\n|\r|\n/).find((s) => s.startsWith(`TXA${fieldSep}`));
  const id = txa?.split(fieldSep)[12]?.split('^')[0];
  return Buffer.from(id || controlId || 'no-control-id', 'latin1').toString('utf8');
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new MednerError('KAFKA_UNAVAILABLE', 'Kafka did not acknowledge within MLLP_ACK_TIMEOUT_MS', { retriable: true })), ms)))]).finally(() => clearTimeout(timer));
}

export async function startMllpServer(o: MllpOptions): Promise<MllpServer> {
  const log = o.logger.child({ component: 'mllp' });
  const counts: Record<AckCode, number> = { AA: 0, AE: 0, AR: 0 };
  const sockets = new Set<net.Socket>();

  const onConnection = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', (err) => log.debug(errorFields(err), 'connection error'));
    socket.setTimeout(o.idleTimeoutMs, () => {
      log.info({ idleMs: o.idleTimeoutMs }, 'idle connection closed');
      socket.end();
    });
    const decoder = new MllpDecoder(o.maxMessageBytes);
    // One message at a time per connection, answered in order.
    let chain = Promise.resolve();
    const reply = (ack: Buffer, code: AckCode, reason: string, bytes: number) => {
      counts[code]++;
      (code === 'AA' ? log.debug : log.warn).call(log, { ack: code, reason, bytes }, 'mllp message answered');
      if (!socket.destroyed) socket.write(frame(ack));
    };
    const handle = async (bytes: Buffer) => {
      const msh = readMsh(bytes);
      if (!msh) return reply(buildAck(undefined, 'AR', 'NOT_HL7: the message does not start with an MSH segment'), 'AR', 'NOT_HL7', bytes.length);
      const comp = msh.encoding[0] ?? '^';
      if (!acceptedType(msh.messageType, comp)) {
        const type = msh.messageType.split(comp).slice(0, 2).join('^').replace(/[^A-Z0-9^]/g, '').slice(0, 16);
        return reply(buildAck(msh, 'AR', `UNSUPPORTED_EVENT: message type ${type} is not taken (MDM T01-T11, ORU R01)`), 'AR', 'UNSUPPORTED_EVENT', bytes.length);
      }
      try {
        await withTimeout(o.producer.send(o.topic, [{ key: messageKey(bytes, msh.fieldSep, msh.controlId), value: bytes, headers: { 'medner-sent-from': 'medner-mllp' } }]), o.ackTimeoutMs);
        reply(buildAck(msh, 'AA', 'accepted'), 'AA', 'OK', bytes.length);
      } catch (err) {
        reply(buildAck(msh, 'AE', 'KAFKA_UNAVAILABLE: not stored, send it again later'), 'AE', errorCode(err), bytes.length);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      for (const ev of decoder.push(chunk)) {
        if (ev.kind === 'frame') chain = chain.then(() => handle(ev.bytes));
        else {
          const code = ev.code;
          const msg = code === 'OVERSIZE' ? `MESSAGE_TOO_LARGE: ${ev.message}` : `FRAMING: ${ev.message}`;
          chain = chain.then(() => reply(buildAck(undefined, 'AR', msg), 'AR', code, 0));
        }
      }
    });
  };

  const server: net.Server = o.tls ? tls.createServer({ cert: readFileSync(o.tls.certFile), key: readFileSync(o.tls.keyFile) }, onConnection) : net.createServer(onConnection);
  server.maxConnections = o.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ host: o.host, port, tls: !!o.tls, topic: o.topic }, 'MLLP listener up');
  return {
    port,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
