import type { RoutePlugin } from '../deps.ts';
import { feedRoutes } from '../feed/routes.ts';
import { uiRoutes } from '../ui/routes.ts';
import { alertRoutes } from './alerts.ts';
import { deliveryRoutes } from './deliveries.ts';
import { docsRoutes } from './docs.ts';
import { folderRoutes } from './folders.ts';
import { healthRoutes } from './health.ts';
import { jobRoutes } from './jobs.ts';
import { libraryRoutes } from './libraries.ts';
import { metricsRoutes } from './metrics.ts';
import { movieChoiceRoutes } from './movieChoices.ts';
import { movieRoutes } from './movies.ts';
import { pathMappingRoutes } from './pathMappings.ts';
import { pathRoutes } from './paths.ts';
import { playerGroupRoutes } from './playerGroups.ts';
import { playerRoutes } from './players.ts';
import { scheduleRoutes } from './schedules.ts';
import { seriesRoutes } from './series.ts';
import { settingsRoutes } from './settings.ts';
import { webhookRoutes } from './webhooks.ts';
import { workerRoutes } from './workers.ts';

/** Every route file, one per resource, in the order the document lists their paths. */
export const routePlugins: RoutePlugin[] = [
  healthRoutes,
  webhookRoutes,
  deliveryRoutes,
  libraryRoutes,
  folderRoutes,
  pathMappingRoutes,
  playerGroupRoutes,
  playerRoutes,
  pathRoutes,
  movieRoutes,
  movieChoiceRoutes,
  seriesRoutes,
  jobRoutes,
  workerRoutes,
  scheduleRoutes,
  settingsRoutes,
  alertRoutes,
  metricsRoutes,
  feedRoutes,
  docsRoutes,
  uiRoutes,
];
