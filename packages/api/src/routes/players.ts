import { testPlayer } from '@metarr/core';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { AppDeps } from '../app.ts';
import { httpError } from '../errors.ts';

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/** `POST /api/players/:id/test`: reachable, version and credentials, with a sentence for a failure. */
export const playerRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  app.post('/api/players/:id/test', { schema: { params: IdParams } }, async (req) => {
    const { id } = req.params as { id: number };
    const p = await deps.db.selectFrom('players').selectAll().where('id', '=', id).executeTakeFirst();
    if (!p) throw httpError(404, `player ${id} not found`);
    const result = await testPlayer({
      id: p.id,
      name: p.name,
      type: p.type,
      host: p.host,
      port: p.port,
      useTls: p.use_tls,
      username: p.username,
      password: p.password,
      apiKey: p.api_key,
    });
    deps.log.info(
      {
        service: 'MediaPlayerNotificationService',
        playerId: p.id,
        reachable: result.reachable,
        authOk: result.authOk,
      },
      'Player connection tested',
    );
    return result;
  });
};
