/**
 * Alert channels through the REST API: CRUD, validation naming the field, write-only secrets (sealed
 * in the database, never answered, never logged), and the Test action against each receiver type,
 * checked on a real HTTP receiver for the exact request each type documents.
 */
import { createLogger } from '@metarr/core';
import { startFakeAlertReceiver } from '@metarr/testkit';
import t from 'tap';
import { startStack } from './support/stack.ts';

const SECRET_PATH = '/api/webhooks/123456/s3cr3t-discord-token';
const NTFY_TOKEN = 'tk_s3cr3tntfytoken';
const APPRISE_KEY = 's3cr3t-apprise-key';
const HOOK_SECRET = 'hook-s3cr3t';

t.test('alert channels: CRUD, validation, secrets and the Test action', async (t) => {
  let logs = '';
  const log = createLogger({
    name: 'test',
    level: 'debug',
    destination: { write: (s: string) => (logs += s) },
  });
  const stack = await startStack(t, { worker: false, log });
  const rx = await startFakeAlertReceiver();
  t.teardown(() => rx.close());

  await t.test('validation: 400 naming the field', async (t) => {
    const bad = async (body: Record<string, unknown>, field: RegExp) => {
      const r = await stack.api('POST', '/api/alerts', body);
      t.equal(r.status, 400, r.text);
      t.match(r.json.message, field);
    };
    await bad({ type: 'discord', url: `${rx.url}${SECRET_PATH}` }, /name/);
    await bad({ name: 'x', type: 'slack', url: rx.url }, /body\/type/);
    await bad(
      { name: 'x', type: 'discord', url: 'ftp://example.com/x' },
      /body\/url must be an absolute http\(s\) URL/,
    );
    await bad({ name: 'x', type: 'discord', url: 'not a url' }, /body\/url/);
    await bad(
      { name: 'x', type: 'webhook', url: 'http://169.254.169.254/latest' },
      /body\/url must not point at a link-local/,
    );
    await bad({ name: 'x', type: 'ntfy', url: rx.url }, /body\/topic is required for an ntfy channel/);
    await bad({ name: 'x', type: 'ntfy', url: rx.url, topic: 'has space' }, /body\/topic/);
    await bad({ name: 'x', type: 'apprise', url: rx.url }, /body\/token is required for an apprise channel/);
    await bad(
      { name: 'x', type: 'webhook', url: rx.url, events: ['job-dead-lettered', 'bogus'] },
      /body\/events/,
    );
    await bad({ name: 'x', type: 'webhook', url: rx.url, unreachableMinutes: 0 }, /body\/unreachableMinutes/);
    await bad({ name: 'x', type: 'webhook', url: rx.url, digestSeconds: 99999 }, /body\/digestSeconds/);
    t.same((await stack.api('GET', '/api/alerts')).json, [], 'nothing was stored');
  });

  const created: Record<string, number> = {};
  await t.test('create, read, list: defaults, and secrets never answered', async (t) => {
    const discord = await stack.api('POST', '/api/alerts', {
      name: 'Discord',
      type: 'discord',
      url: `${rx.url}${SECRET_PATH}`,
    });
    t.equal(discord.status, 201, discord.text);
    t.same(discord.json, {
      id: discord.json.id,
      name: 'Discord',
      type: 'discord',
      url: `${rx.url}/…`,
      hasToken: false,
      topic: null,
      enabled: true,
      events: [
        'job-dead-lettered',
        'player-unreachable',
        'provider-key-rejected',
        'disk-full',
        'item-healed',
      ],
      unreachableMinutes: 10,
      digestSeconds: 60,
    });
    created.discord = discord.json.id;
    const ntfy = await stack.api('POST', '/api/alerts', {
      name: 'ntfy',
      type: 'ntfy',
      url: `${rx.url}/`,
      topic: 'metarr-alerts',
      token: NTFY_TOKEN,
      events: ['publish-done', 'job-dead-lettered'],
      unreachableMinutes: 3,
    });
    t.equal(ntfy.status, 201, ntfy.text);
    t.equal(ntfy.json.hasToken, true);
    t.equal(ntfy.json.url, rx.url, 'a bare server URL has nothing to cut');
    t.same(ntfy.json.events, ['publish-done', 'job-dead-lettered']);
    created.ntfy = ntfy.json.id;
    const apprise = await stack.api('POST', '/api/alerts', {
      name: 'Apprise',
      type: 'apprise',
      url: rx.url,
      token: APPRISE_KEY,
    });
    t.equal(apprise.status, 201, apprise.text);
    created.apprise = apprise.json.id;
    const hook = await stack.api('POST', '/api/alerts', {
      name: 'Hook',
      type: 'webhook',
      url: `${rx.url}/hooks/metarr?secret=${HOOK_SECRET}`,
    });
    t.equal(hook.status, 201, hook.text);
    t.equal(hook.json.url, `${rx.url}/…`);
    created.webhook = hook.json.id;

    const list = await stack.api('GET', '/api/alerts');
    t.equal(list.status, 200);
    t.same(
      list.json.map((c: { name: string }) => c.name),
      ['Discord', 'ntfy', 'Apprise', 'Hook'],
    );
    const one = await stack.api('GET', `/api/alerts/${created.apprise}`);
    t.equal(one.status, 200);
    t.equal(one.json.hasToken, true);
    t.equal((await stack.api('GET', '/api/alerts/999999')).status, 404);
    for (const text of [list.text, one.text, discord.text, ntfy.text, apprise.text, hook.text])
      for (const secret of ['s3cr3t', HOOK_SECRET, NTFY_TOKEN, APPRISE_KEY]) t.notOk(text.includes(secret));

    const rows = await stack.db.selectFrom('alert_channels').select(['url', 'token']).execute();
    for (const r of rows) {
      t.match(r.url, /^enc:v1:/, 'url sealed at rest');
      if (r.token !== null) t.match(r.token, /^enc:v1:/, 'token sealed at rest');
    }
    t.notOk(JSON.stringify(rows).includes('s3cr3t'), 'no secret in the rows');
  });

  await t.test('the Test action sends each type its documented request', async (t) => {
    rx.requests.length = 0;
    const test = async (id: number) => {
      const r = await stack.api('POST', `/api/alerts/${id}/test`);
      t.equal(r.status, 200, r.text);
      t.equal(r.json.ok, true);
      return r;
    };

    const d = await test(created.discord as number);
    t.equal(d.json.status, 204);
    t.match(d.json.message, /^Delivered to Discord \(127\.0\.0\.1\) \(HTTP 204\)\.$/);
    const [dr] = rx.at(SECRET_PATH);
    t.equal(dr?.method, 'POST');
    t.match(dr?.headers['content-type'], /^application\/json/);
    t.same(Object.keys(dr?.json ?? {}).sort(), ['content', 'embeds']);
    t.equal(dr?.json.content, 'Metarr: test alert');
    t.equal(dr?.json.embeds.length, 1);
    t.match(dr?.json.embeds[0], {
      title: 'Metarr: test alert',
      description: /test message from Metarr/,
      color: Number,
    });

    await test(created.ntfy as number);
    const [nr] = rx.at('/metarr-alerts');
    t.equal(nr?.method, 'POST');
    t.equal(nr?.headers['title'], 'Metarr: test alert');
    t.equal(nr?.headers['priority'], '3');
    t.equal(nr?.headers['tags'], 'information_source,metarr');
    t.equal(nr?.headers['authorization'], `Bearer ${NTFY_TOKEN}`);
    t.match(nr?.body, /^This is a test message from Metarr/);

    await test(created.apprise as number);
    const [ar] = rx.at(`/notify/${APPRISE_KEY}`);
    t.equal(ar?.method, 'POST');
    t.match(ar?.headers['content-type'], /^application\/json/);
    t.same(Object.keys(ar?.json ?? {}).sort(), ['body', 'title', 'type']);
    t.match(ar?.json, { title: 'Metarr: test alert', body: /test message/, type: 'info' });

    await test(created.webhook as number);
    const [wr] = rx.at('/hooks/metarr');
    t.equal(wr?.method, 'POST');
    t.match(wr?.json, {
      source: 'metarr',
      title: 'Metarr: test alert',
      message: /test message/,
      level: 'info',
      total: 0,
      counts: {},
      events: [],
      test: true,
    });
    t.equal(rx.requests.length, 4, 'one request per test, nothing else');
  });

  await t.test('a failing receiver: 502 with a sentence, no stack, no secret', async (t) => {
    rx.setMode('401');
    const r = await stack.api('POST', `/api/alerts/${created.discord}/test`);
    t.equal(r.status, 502, r.text);
    t.same(Object.keys(r.json).sort(), ['error', 'message', 'statusCode']);
    t.equal(r.json.error, 'Bad Gateway');
    t.equal(
      r.json.message,
      'Test message not delivered: Discord (127.0.0.1) answered HTTP 401; check the token or key.',
    );
    rx.setMode('500');
    const five = await stack.api('POST', `/api/alerts/${created.apprise}/test`);
    t.equal(five.status, 502);
    t.match(five.json.message, /Apprise \(127\.0\.0\.1\) answered HTTP 500/);
    rx.setMode('redirect');
    const redirect = await stack.api('POST', `/api/alerts/${created.webhook}/test`);
    t.equal(redirect.status, 502);
    t.match(redirect.json.message, /redirect \(HTTP 302\), which is not followed/);
    rx.setMode('ok');
    await rx.close();
    const gone = await stack.api('POST', `/api/alerts/${created.ntfy}/test`);
    t.equal(gone.status, 502);
    t.match(gone.json.message, /ntfy \(127\.0\.0\.1\) could not be reached \(ECONNREFUSED\)/);
    for (const x of [r, five, redirect, gone]) {
      t.notOk(/s3cr3t|at \w+ \(|\.ts:\d+/.test(x.text), 'no secret and no stack');
    }
    t.equal((await stack.api('POST', '/api/alerts/999999/test')).status, 404);
  });

  await t.test('replace (PUT) keeps write-only secrets left out; delete', async (t) => {
    const put = await stack.api('PUT', `/api/alerts/${created.apprise}`, {
      name: 'Apprise 2',
      type: 'apprise',
      url: 'http://127.0.0.1:8000',
      enabled: false,
    });
    t.equal(put.status, 200, put.text);
    t.match(put.json, { name: 'Apprise 2', hasToken: true, enabled: false, url: 'http://127.0.0.1:8000' });
    t.same(put.json.events, [
      'job-dead-lettered',
      'player-unreachable',
      'provider-key-rejected',
      'disk-full',
      'item-healed',
    ]);
    const keepUrl = await stack.api('PUT', `/api/alerts/${created.discord}`, {
      name: 'Discord',
      type: 'discord',
      events: ['publish-done'],
    });
    t.equal(keepUrl.status, 200, keepUrl.text);
    t.match(keepUrl.json.url, /^http:\/\/127\.0\.0\.1:\d+\/…$/, 'the stored URL was kept');
    const row = await stack.db
      .selectFrom('alert_channels')
      .select(['url'])
      .where('id', '=', created.discord as number)
      .executeTakeFirstOrThrow();
    t.match(row.url, /^enc:v1:/);
    const dropToken = await stack.api('PUT', `/api/alerts/${created.apprise}`, {
      name: 'Apprise 2',
      type: 'apprise',
      token: null,
    });
    t.equal(dropToken.status, 400, 'an apprise channel cannot lose its key');
    t.match(dropToken.json.message, /body\/token is required/);
    const toWebhook = await stack.api('PUT', `/api/alerts/${created.apprise}`, {
      name: 'now a webhook',
      type: 'webhook',
      token: null,
    });
    t.equal(toWebhook.status, 200, toWebhook.text);
    t.equal(toWebhook.json.hasToken, false);
    t.equal((await stack.api('PUT', '/api/alerts/999999', { name: 'x', type: 'webhook' })).status, 404);
    const badPut = await stack.api('PUT', `/api/alerts/${created.ntfy}`, { name: 'x', type: 'ntfy' });
    t.equal(badPut.status, 400);
    t.match(badPut.json.message, /body\/topic/);

    t.equal((await stack.api('DELETE', `/api/alerts/${created.ntfy}`)).status, 204);
    t.equal((await stack.api('DELETE', `/api/alerts/${created.ntfy}`)).status, 404);
    t.equal((await stack.api('GET', `/api/alerts/${created.ntfy}`)).status, 404);
  });

  await t.test('no secret in any log line', async (t) => {
    t.ok(logs.includes('Alert channel tested'), 'the test outcomes were logged');
    t.ok(logs.includes('"service":"AlertService"'), 'alert lines name their service');
    for (const secret of ['s3cr3t', NTFY_TOKEN, APPRISE_KEY, HOOK_SECRET])
      t.notOk(logs.includes(secret), secret);
  });
});
