// A send that fails because the brokers are away must be retriable (the job waits for Kafka), and
// one that fails because of the records (too large) must not: the soak's Kafka restart found notes
// dead-lettered INTERNAL after their resources were written, from a raw kafkajs error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { MednerError, errorCode, isRetriable } from '../../src/core/errors.ts';
import { sendFailure } from '../../src/kafka/client.ts';

const { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSRequestTimeoutError } = kafkajs;
/** kafkajs builds its protocol errors from the broker's error entry (its typings say Error). */
const protocolError = (o: { type: string; code: number; retriable: boolean; message: string }) => new KafkaJSProtocolError(o as unknown as Error);

test('brokers away (connection refused, retries exhausted on it, timeouts, leader moving): retriable KAFKA_UNAVAILABLE', () => {
  const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
  const exhausted = new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 3000 });
  const timeout = new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out');
  const leader = protocolError({ type: 'LEADER_NOT_AVAILABLE', code: 5, retriable: true, message: 'There is no leader' });
  for (const raw of [refused, exhausted, timeout, leader]) {
    const e = sendFailure(raw);
    assert.ok(e instanceof MednerError, raw.name);
    assert.equal(errorCode(e), 'KAFKA_UNAVAILABLE');
    assert.equal(isRetriable(e), true);
    assert.equal((e as MednerError).cause, raw);
  }
});

test('records refused (too large, also wrapped by the retrier) or an unknown error: passed on unchanged, not retriable', () => {
  const tooLarge = protocolError({ type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false, message: 'The request included a message larger than the max message size the server will accept' });
  const wrapped = new KafkaJSNumberOfRetriesExceeded(tooLarge, { retryCount: 0, retryTime: 0 });
  const auth = protocolError({ type: 'TOPIC_AUTHORIZATION_FAILED', code: 29, retriable: false, message: 'Not authorized' });
  const other = new TypeError('x is not a function');
  for (const raw of [tooLarge, wrapped, auth, other]) {
    assert.equal(sendFailure(raw), raw);
    assert.equal(isRetriable(sendFailure(raw)), false);
  }
});
