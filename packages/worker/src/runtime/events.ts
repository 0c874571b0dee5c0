import { type Db, type JobEvent, publishJobEvents } from '@metarr/core';

/** Collects a batch's lifecycle events and publishes each phase with one query. */
export class EventBatch {
  readonly db: Db;
  started: JobEvent[] = [];
  rest: JobEvent[] = [];
  /** Handlers wait for this, so no job's progress event overtakes its `job:started`. */
  readonly ready: Promise<void>;
  private open: () => void = () => {};
  constructor(db: Db) {
    this.db = db;
    this.ready = new Promise((r) => {
      this.open = r;
    });
  }
  async flushStarted() {
    await publishMany(this.db, this.started.splice(0));
    this.open();
  }
  async flush() {
    await publishMany(this.db, [...this.started.splice(0), ...this.rest.splice(0)]);
  }
}

async function publishMany(db: Db, events: JobEvent[]) {
  await publishJobEvents(db, events).catch(() => {});
}
