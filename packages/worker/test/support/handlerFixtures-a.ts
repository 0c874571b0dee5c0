import fs from 'node:fs/promises';
import path from 'node:path';
import {
  createJobInspector,
  createPlayer,
  type Db,
  deriveSecretKey,
  fromBossPriority,
  type GroupMapping,
  insertPlayerGroup,
  type LibraryType,
  type Logger,
  loadConfig,
  type Manager,
  type PlayerGroupInput,
  type PlayerType,
  replaceGroupLinks,
  useSecretKey,
} from '@metarr/core';
import {
  type FakeJellyfin,
  type FakeKodi,
  type FakeKodiOptions,
  startFakeJellyfin,
  startFakeKodi,
} from '@metarr/testkit';
import type { HandlerDeps } from '../../src/context.ts';
import { handlerDeps } from './runtime.ts';

/**
 * Set-up shared by the handler tests of webhook, scan-movie, notify-players, notify-group,
 * library-scan and scheduled-file-scan: rows a handler reads, fake players, and the follow-up jobs
 * a handler created, read back by parent.
 */

// Players' credentials are stored sealed: one key for this process, never the data dir's.
useSecretKey(deriveSecretKey('handler-fixtures-a: a test-only secret key'));

type Teardown = { teardown(fn: () => unknown): void };

/**
 * Handler deps whose config takes these environment values (strings, as in the environment): a
 * setting worth asserting gets a value no default has, so the assertion tells them apart.
 */
export function depsWithEnv(env: Record<string, string>) {
  return (db: Db, log: Logger): HandlerDeps => ({
    ...handlerDeps(db, log),
    config: loadConfig({ METARR_DATA_DIR: '.tmp/unused', ...env }),
  });
}

export async function insertLibrary(
  db: Db,
  input: { path: string; type?: LibraryType; name?: string },
): Promise<number> {
  const row = await db
    .insertInto('libraries')
    .values({ name: input.name ?? path.basename(input.path), type: input.type ?? 'movie', path: input.path })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function insertPathMapping(db: Db, manager: Manager, from: string, to: string): Promise<void> {
  await db.insertInto('path_mappings').values({ manager, from_path: from, to_path: to }).execute();
}

export interface PlayerSpec {
  name?: string;
  /** Default: the group's type. */
  type?: PlayerType;
  /** A fake server's `url` (`http://127.0.0.1:port`) or an address of its own. */
  url: string;
  username?: string;
  password?: string;
  apiKey?: string;
  enabled?: boolean;
}

let groups = 0;

/** A player group linked to libraries, with its path mappings and players (in this order). */
export async function insertGroup(
  db: Db,
  input: Partial<PlayerGroupInput> & {
    type: PlayerType;
    libraryIds: number[];
    mappings?: GroupMapping[];
    players?: PlayerSpec[];
  },
): Promise<{ groupId: number; playerIds: number[] }> {
  const { libraryIds, mappings, players = [], ...group } = input;
  const groupId = await insertPlayerGroup(db, { name: `group ${++groups}`, ...group });
  await replaceGroupLinks(db, groupId, { libraryIds, pathMappings: mappings ?? [] });
  const playerIds: number[] = [];
  for (const [i, p] of players.entries()) {
    const url = new URL(p.url);
    const player = await createPlayer(db, {
      groupId,
      name: p.name ?? `player ${i + 1}`,
      type: p.type ?? input.type,
      host: url.hostname,
      port: Number(url.port),
      username: p.username ?? null,
      password: p.password ?? null,
      apiKey: p.apiKey ?? null,
      enabled: p.enabled ?? true,
    });
    playerIds.push(player.id);
  }
  return { groupId, playerIds };
}

/** A stored webhook delivery, as the API leaves it for the `webhook` job. */
export async function storeDelivery(db: Db, source: Manager, body: Record<string, unknown>): Promise<string> {
  const row = await db
    .insertInto('webhook_deliveries')
    .values({
      source,
      event_type: String(body['eventType']),
      idempotency_key: `k-${Math.random().toString(36).slice(2)}`,
      body: JSON.stringify(body),
      status: 'queued',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

const fixtureDir = path.resolve(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'core',
  'test',
  'fixtures',
  'webhooks',
);

/** A fresh copy of a webhook fixture body (packages/core/test/fixtures/webhooks). */
export async function webhookFixture(name: string): Promise<Record<string, any>> {
  return JSON.parse(await fs.readFile(path.join(fixtureDir, `${name}.json`), 'utf8'));
}

export interface ChildJob {
  id: string;
  type: string;
  /** On Metarr's scale (1 most urgent … 10 least). */
  priority: number;
  parentId: string | null;
  payload: Record<string, unknown>;
  state: string;
  startAfter: Date;
  singletonKey: string | null;
}

/** The jobs of `type` whose parent is `parentId`, oldest first. */
export async function childJobs(db: Db, parentId: string, type: string): Promise<ChildJob[]> {
  const rows = await createJobInspector(db).rows({ types: [type], parentIds: [parentId] });
  return rows.map((r) => {
    const data = r.data as { payload: Record<string, unknown>; parentId: string | null };
    return {
      id: r.id,
      type: r.name,
      priority: fromBossPriority(r.priority),
      parentId: data.parentId,
      payload: data.payload,
      state: r.state,
      startAfter: new Date(r.start_after),
      singletonKey: r.singleton_key,
    };
  });
}

/** A fake Jellyfin on 127.0.0.1, closed when the test ends. */
export async function fakeJellyfin(t: Teardown): Promise<FakeJellyfin> {
  const jf = await startFakeJellyfin();
  t.teardown(() => jf.close());
  return jf;
}

/** A fake Kodi on 127.0.0.1, closed when the test ends. */
export async function fakeKodi(t: Teardown, opts: FakeKodiOptions = {}): Promise<FakeKodi> {
  const kodi = await startFakeKodi(opts);
  t.teardown(() => kodi.close());
  return kodi;
}
