import type { HandlerMap } from '../context.ts';
import { notImplemented } from './notImplemented.ts';
import { handleNotifyPlayers } from './notifyPlayers.ts';
import { handleScanMovie } from './scanMovie.ts';
import { handleWebhook } from './webhook.ts';

export const handlers: HandlerMap = {
  webhook: handleWebhook,
  'scan-movie': handleScanMovie,
  'notify-players': handleNotifyPlayers,
  'discover-assets': notImplemented('discover-assets'),
  'fetch-provider-assets': notImplemented('fetch-provider-assets'),
  'enrich-metadata': notImplemented('enrich-metadata'),
  'select-assets': notImplemented('select-assets'),
  publish: notImplemented('publish'),
  'library-scan': notImplemented('library-scan'),
  'scheduled-file-scan': notImplemented('scheduled-file-scan'),
  'scheduled-provider-update': notImplemented('scheduled-provider-update'),
};
