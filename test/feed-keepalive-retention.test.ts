import net from 'node:net';
import { ConfigError, ensureQueues, jobNames, loadConfig } from '@metarr/core';
import t from 'tap';
import { openFeed } from './support/feed-client.ts';
import { API_KEY, startStack, waitFor } from './support/stack.ts';

t.test(
  'ping/pong keepalive: a client that never answers pings is dropped, one that does stays',
  async (t) => {
    const stack = await startStack(t, { worker: false, feed: { pingIntervalMs: 150 } });
    const good = await openFeed(stack.url);
    t.teardown(() => good.close());
    let goodClosed = false;
    good.ws.on('close', () => {
      goodClosed = true;
    });

    // A raw client that reads everything but never answers a ping.
    const { port } = new URL(stack.url);
    const mute = net.connect(Number(port), '127.0.0.1');
    await new Promise((r) => mute.once('connect', r));
    mute.write(
      `GET /api/ws?apikey=${API_KEY} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    let bytes = Buffer.alloc(0);
    let closed = false;
    mute.on('data', (d) => {
      bytes = Buffer.concat([bytes, d]);
    });
    mute.on('close', () => {
      closed = true;
    });
    mute.on('error', () => {});
    await waitFor('the mute client to be dropped', async () => closed, 5000);
    // 0x89 = FIN + ping opcode: the server did ask.
    t.ok(bytes.includes(Buffer.from([0x89, 0x00])), 'the server sent pings');
    t.ok(closed, 'the client that never answered was dropped');
    await new Promise((r) => setTimeout(r, 400));
    t.notOk(goodClosed, 'a client answering pings stays connected');
    t.equal(good.ws.readyState, good.ws.OPEN);
  },
);

t.test('METARR_JOB_RETENTION_DAYS: validated, default 14, applied to every queue', async (t) => {
  t.equal(loadConfig({}).jobRetentionDays, 14, 'default 14 days');
  t.equal(loadConfig({ METARR_JOB_RETENTION_DAYS: '3' }).jobRetentionDays, 3);
  t.throws(
    () => loadConfig({ METARR_JOB_RETENTION_DAYS: 'soon' }),
    { name: 'ConfigError', message: /METARR_JOB_RETENTION_DAYS/ },
    'a bad value names the variable',
  );
  t.throws(() => loadConfig({ METARR_JOB_RETENTION_DAYS: '0' }), ConfigError, 'at least one day');

  const stack = await startStack(t, { worker: false });
  const deletion = async () =>
    (await stack.boss.getQueues())
      .map((q) => ({ name: q.name, deletion_seconds: q.deleteAfterSeconds }))
      .filter((r) => (jobNames as string[]).includes(r.name));
  t.ok(
    (await deletion()).every((r) => r.deletion_seconds === 14 * 86_400),
    'the catalog default is 14 days',
  );
  await ensureQueues(stack.boss, { retentionDays: 3 });
  const rows = await deletion();
  t.equal(rows.length, jobNames.length, 'every catalog queue');
  t.ok(
    rows.every((r) => r.deletion_seconds === 3 * 86_400),
    'finished jobs are deleted after 3 days',
  );
});
