/**
 * How every Kafka client of medner connects (producer, consumer, admin: createKafka and
 * connectKafkaAdmin both take their options from here): brokers, client id, TLS from PEM files,
 * SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512); and what a failed connection means, as a
 * MednerError naming Kafka and the brokers (never the password).
 */
import fs from 'node:fs';
import type { KafkaConfig } from 'kafkajs';
import type { KafkaSasl, KafkaTls } from '../config/config.ts';
import { MednerError } from '../core/errors.ts';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  ssl?: KafkaTls;
  sasl?: KafkaSasl;
}

/** The kafkajs options for brokers, client id, TLS and SASL. PEM files are read here, on every new client. */
export function kafkaConnectionConfig(o: KafkaClientOptions): Pick<KafkaConfig, 'brokers' | 'clientId' | 'ssl' | 'sasl'> {
  const read = (f: string, what: string) => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch (err) {
      throw new MednerError('KAFKA_TLS_CONFIG', `Kafka TLS: cannot read the ${what} file ${f}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
  };
  const ssl = o.ssl
    ? {
        rejectUnauthorized: true,
        ...(o.ssl.caFile ? { ca: [read(o.ssl.caFile, 'CA (KAFKA_SSL_CA_FILE)')] } : {}),
        ...(o.ssl.certFile ? { cert: read(o.ssl.certFile, 'client certificate (KAFKA_SSL_CERT_FILE)') } : {}),
        ...(o.ssl.keyFile ? { key: read(o.ssl.keyFile, 'client key (KAFKA_SSL_KEY_FILE)') } : {}),
        ...(o.ssl.keyPassword ? { passphrase: o.ssl.keyPassword } : {}),
      }
    : undefined;
  const sasl = o.sasl ? ({ mechanism: o.sasl.mechanism, username: o.sasl.username, password: o.sasl.password } as KafkaConfig['sasl']) : undefined;
  return { brokers: o.brokers, clientId: o.clientId, ...(ssl ? { ssl } : {}), ...(sasl ? { sasl } : {}) };
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_SSL|ERR_TLS|EPROTO|ALTNAME|wrong version number|certificate/i;

/** Errors along the cause chain (kafkajs wraps: KafkaJSNonRetriableError -> KafkaJSSASLAuthenticationError, ...). */
function chain(err: unknown): { name: string; message: string; code: string }[] {
  const out: { name: string; message: string; code: string }[] = [];
  let e: unknown = err;
  for (let i = 0; i < 8 && e && typeof e === 'object'; i++) {
    const x = e as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown; originalError?: unknown };
    out.push({ name: String(x.name ?? ''), message: String(x.message ?? ''), code: String(x.code ?? '') });
    e = x.cause ?? x.originalError;
  }
  return out;
}

/**
 * A Kafka connection failure as a MednerError: KAFKA_AUTH_FAILED (SASL rejected),
 * KAFKA_TLS_FAILED (handshake or certificate), KAFKA_UNREACHABLE (anything else).
 */
export function explainKafkaError(err: unknown, o: KafkaClientOptions): MednerError {
  if (err instanceof MednerError) return err;
  const where = `Kafka at ${o.brokers.join(',')}`;
  const links = chain(err);
  const sasl = links.find((l) => /SASL/i.test(l.name) || /SASL|authentication failed/i.test(l.message));
  if (sasl) {
    const how = o.sasl ? `${o.sasl.mechanism.toUpperCase()} as user ${JSON.stringify(o.sasl.username)}` : 'no SASL configured (KAFKA_SASL_MECHANISM)';
    return new MednerError('KAFKA_AUTH_FAILED', `${where} rejected the SASL credentials (${how}): check KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD. ${sasl.message}`, { cause: err });
  }
  const tls = links.find((l) => TLS_CODES.test(l.code) || TLS_CODES.test(l.message));
  if (tls) {
    return new MednerError('KAFKA_TLS_FAILED', `${where}: TLS failed (${tls.code || tls.message}): check KAFKA_SSL_CA_FILE and the broker's certificate. ${tls.message}`, { cause: err });
  }
  const last = links[links.length - 1] ?? links[0];
  return new MednerError('KAFKA_UNREACHABLE', `${where} did not accept a connection${o.ssl ? ' over TLS' : ''}${o.sasl ? ` with SASL ${o.sasl.mechanism}` : ''}: ${last?.message ?? String(err)}`, { retriable: true, cause: err });
}
