import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The webhook module's fixtures (packages/core/test/fixtures/webhooks), read as data. */
const DIR = path.resolve(import.meta.dirname, '..', '..', 'packages', 'core', 'test', 'fixtures', 'webhooks');

/** A fresh copy of a fixture body, so a test may change it freely. */
export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8')) as Record<string, unknown>;
}

/** Reads a nested member of a fixture body for editing: `at(body, 'movie')`. */
export function at(body: Record<string, unknown>, ...keys: (string | number)[]): Record<string, unknown> {
  let node: unknown = body;
  for (const k of keys) node = (node as Record<string | number, unknown>)[k];
  return node as Record<string, unknown>;
}
