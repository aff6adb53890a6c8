import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { kafkaVersionFromJars, parseProperties, renderServerProperties } from '../../src/stack/kafka-properties.ts';
import { newClusterId } from '../../src/stack/kafka.ts';
import { REPO_ROOT } from '../../src/stack/paths.ts';

const template = fs.readFileSync(path.join(REPO_ROOT, 'deploy', 'kafka', 'server.properties.template'), 'utf8');
const vars = { host: '127.0.0.1', brokerPort: 19092, controllerPort: 19093, dataDir: '/tmp/stack/kafka/data' };

test('the shipped template renders a single-node KRaft broker+controller', () => {
  const props = parseProperties(renderServerProperties(template, vars));
  assert.equal(props.get('process.roles'), 'broker,controller');
  assert.equal(props.get('listeners'), 'PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
  assert.equal(props.get('advertised.listeners'), 'PLAINTEXT://127.0.0.1:19092');
  assert.equal(props.get('controller.quorum.voters'), `${props.get('node.id')}@127.0.0.1:19093`);
  assert.equal(props.get('controller.listener.names'), 'CONTROLLER');
  assert.equal(props.get('log.dirs'), '/tmp/stack/kafka/data');
  assert.equal(props.get('group.initial.rebalance.delay.ms'), '0');
  for (const k of [
    'offsets.topic.replication.factor',
    'transaction.state.log.replication.factor',
    'transaction.state.log.min.isr',
    'share.coordinator.state.topic.replication.factor',
    'share.coordinator.state.topic.min.isr',
  ]) {
    assert.equal(props.get(k), '1', k);
  }
  assert.doesNotMatch(renderServerProperties(template, vars), /\{\{|\}\}/);
});

test('a placeholder without a value is an error, not a blank', () => {
  assert.throws(() => renderServerProperties('a={{host}}\nb={{nope}}\n', vars), /no value for nope/);
  assert.equal(renderServerProperties('x={{ brokerPort }}', vars), 'x=19092');
});

test('parseProperties skips comments and blanks and keeps = inside values', () => {
  const p = parseProperties('# c\n! c\n\n a = 1 \nb=x=y\nnovalue\n');
  assert.deepEqual([...p], [['a', '1'], ['b', 'x=y']]);
});

test('kafkaVersionFromJars finds the broker jar, not the clients jar', () => {
  assert.equal(kafkaVersionFromJars(['kafka-clients-4.1.1.jar', 'kafka_2.13-4.1.1.jar', 'scala-library-2.13.16.jar']), '4.1.1');
  assert.equal(kafkaVersionFromJars(['kafka-clients-4.1.1.jar']), undefined);
});

test('newClusterId: 22 URL-safe base64 chars, never starting with -', () => {
  const id = newClusterId();
  assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  const queue = [Buffer.from([0xfb, ...new Array<number>(15).fill(0)]), Buffer.alloc(16, 1)];
  const picked = newClusterId(() => queue.shift() ?? Buffer.alloc(16, 2));
  assert.equal(picked, Buffer.alloc(16, 1).toString('base64url'));
});
