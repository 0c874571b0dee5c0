import type { BatchHandlerMap, HandlerMap } from '../context.ts';
import { handleSendAlerts } from './alerts.ts';
import { handleAuditPlayer } from './auditPlayer.ts';
import { handleDiscoverAssets } from './discoverAssets.ts';
import { handleEnrichMetadata } from './enrichMetadata.ts';
import { handleFetchProviderAssets } from './fetchProviderAssets.ts';
import { handleLibraryScan } from './libraryScan.ts';
import { handleNotifyGroup, handleNotifyGroupBatch } from './notifyGroup.ts';
import { handleNotifyPlayers, handleNotifyPlayersBatch } from './notifyPlayers.ts';
import { handlePublish } from './publish.ts';
import { handleScanMovie, handleScanMovieBatch } from './scanMovie.ts';
import { handleScanSeries } from './scanSeries.ts';
import { handleScheduledFileScan } from './scheduledFileScan.ts';
import { handleScheduledProviderUpdate } from './scheduledProviderUpdate.ts';
import { handleSelectAssets } from './selectAssets.ts';
import { handleWebhook } from './webhook.ts';

export const handlers: HandlerMap = {
  webhook: handleWebhook,
  'scan-movie': handleScanMovie,
  'scan-series': handleScanSeries,
  'notify-players': handleNotifyPlayers,
  'notify-group': handleNotifyGroup,
  'discover-assets': handleDiscoverAssets,
  'fetch-provider-assets': handleFetchProviderAssets,
  'enrich-metadata': handleEnrichMetadata,
  'select-assets': handleSelectAssets,
  publish: handlePublish,
  'library-scan': handleLibraryScan,
  'scheduled-file-scan': handleScheduledFileScan,
  'scheduled-provider-update': handleScheduledProviderUpdate,
  'send-alerts': handleSendAlerts,
  'audit-player': handleAuditPlayer,
};

/** Batch handlers for bulk-lane batches, and urgent ones where a handler says so (see runBatch). */
export const batchHandlers: BatchHandlerMap = {
  'scan-movie': handleScanMovieBatch,
  'notify-players': handleNotifyPlayersBatch,
  'notify-group': handleNotifyGroupBatch,
};
