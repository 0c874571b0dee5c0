import Type, { type Static, type TSchema } from 'typebox';
import { compileSchema } from '../schema.ts';
import type { ActionableEvent, EventHandlers } from './types.ts';

/** The longest title we hand to job lists (the `webhook` job's `title` limit). */
export const MAX_TITLE_LENGTH = 500;

export const Str = Type.String();
export const Int = Type.Integer();
export const Opt = Type.Optional;

/** Fields every delivery may carry that we use: the event type and the instance name (part of the key). */
export const envelope = {
  eventType: Type.String({ minLength: 1, maxLength: 100 }),
  instanceName: Opt(Str),
};

/** Just enough of the envelope to route a delivery; everything else is judged per event. */
export const Envelope = compileSchema(Type.Object({ eventType: envelope.eventType }));

/** A file reference: the id and path are what we key and act on. */
export const FileRef = Type.Object({ id: Opt(Int), path: Opt(Str) });
export type FileRefBody = Static<typeof FileRef>;

/** Binds handlers to a compiled schema; the handlers see the body typed by that schema. */
export function defineEvent<S extends TSchema>(
  schema: S,
  handlers: EventHandlers<Static<S>>,
): ActionableEvent {
  const validator = compileSchema(schema);
  const typed = (body: unknown) => body as Static<S>;
  return {
    schema,
    check: (body) => validator.check(body),
    errors: (body) => validator.errors(body),
    paths: (body) => handlers.paths(typed(body)),
    identity: (body) => handlers.identity(typed(body)),
    title: (body) => handlers.title(typed(body)),
    plan: (body, eventType) => handlers.plan(typed(body), eventType),
  };
}

/** `movieFile#51`, or the path when the *arr app sent no id. */
export function fileToken(kind: string, file: FileRefBody | undefined): string[] {
  if (!file) return [];
  if (file.id !== undefined) return [`${kind}#${file.id}`];
  if (file.path !== undefined) return [`${kind}@${file.path}`];
  return [];
}

export function fileTokens(kind: string, files: FileRefBody[] | undefined): string[] {
  return (files ?? []).flatMap((f) => fileToken(kind, f));
}

export function positiveId(n: number | undefined): number | undefined {
  return n !== undefined && n > 0 ? n : undefined;
}

export function label(text: string | undefined): string | undefined {
  const t = text?.trim();
  if (!t) return undefined;
  return t.length > MAX_TITLE_LENGTH ? `${t.slice(0, MAX_TITLE_LENGTH - 1)}…` : t;
}

/** Keeps the first occurrence of each value. */
export function distinct<T>(items: T[], keyOf: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = keyOf(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Drops `undefined` members so actions carry only what is known. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
