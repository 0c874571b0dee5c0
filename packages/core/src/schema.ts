import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

export interface SchemaIssue {
  path: string;
  message: string;
}

/**
 * A compiled TypeBox check whose errors read like Fastify's (`/movie/folderPath must be string`):
 * the deepest, most specific error first, so the message names the field that is wrong.
 */
export function compileSchema<T extends TSchema>(schema: T) {
  const validator = Compile(schema);
  return {
    schema,
    check: (value: unknown) => validator.Check(value),
    errors(value: unknown): SchemaIssue[] {
      const seen = new Set<string>();
      const out: SchemaIssue[] = [];
      for (const e of validator.Errors(value)) {
        // Union branches report one error each; keep the summarising anyOf line per path.
        if (e.keyword === 'const' && e.schemaPath.includes('/anyOf/')) continue;
        const path = e.instancePath;
        let message = e.message;
        if (
          e.keyword === 'required' &&
          Array.isArray((e.params as { requiredProperties?: string[] }).requiredProperties)
        ) {
          const missing = (e.params as { requiredProperties: string[] }).requiredProperties;
          for (const m of missing) {
            const key = `${path}/${m}|required`;
            if (seen.has(key)) continue;
            seen.add(key);
            out.push({ path: `${path}/${m}`, message: 'is required' });
          }
          continue;
        }
        const allowed =
          e.keyword === 'anyOf'
            ? collectConsts(e.schemaPath, schema)
            : e.keyword === 'enum'
              ? ((e.params as { allowedValues?: unknown[] }).allowedValues ?? [])
              : [];
        if (allowed.length) message = `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`;
        const key = `${path}|${message}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ path, message });
      }
      return out;
    },
  };
}

function collectConsts(schemaPath: string, root: TSchema): unknown[] {
  let node: unknown = root;
  for (const part of schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (node && typeof node === 'object') node = (node as Record<string, unknown>)[part];
  }
  const anyOf = (node as { anyOf?: { const?: unknown }[] } | undefined)?.anyOf;
  if (!Array.isArray(anyOf)) return [];
  return anyOf.every((s) => s && 'const' in s) ? anyOf.map((s) => s.const) : [];
}

/** `body/movie/folderPath must be string` */
export function formatIssue(prefix: string, issue: SchemaIssue): string {
  return `${prefix}${issue.path} ${issue.message}`;
}
