import { compileSchema } from '@metarr/core';
import type { FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';

/** The query parameter that carries the API key: the auth hook reads it, no route's schema lists it. */
const API_KEY_PARAM = 'apikey';

/**
 * Fastify validates with TypeBox's compiler, not Ajv: bodies are checked as sent (no type
 * coercion, extra properties kept); only querystring and params, which are strings on the wire,
 * are converted first. Errors keep Ajv's shape so Fastify's message reads `body/name must be string`.
 * `?apikey=` is authentication (a security scheme in the document), so it is taken out of the query
 * before the route's schema judges it.
 */
export const typeboxValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const v = compileSchema(schema);
  const convert = httpPart === 'querystring' || httpPart === 'params';
  return (data: unknown) => {
    const input = httpPart === 'querystring' ? withoutApiKey(data) : data;
    const value = convert ? Value.Convert(schema, input) : input;
    if (v.check(value)) return { value };
    const issues = v.errors(value);
    const error = new Error(
      issues.map((i) => `${httpPart === 'body' ? 'body' : httpPart}${i.path} ${i.message}`).join(', '),
    );
    return { error };
  };
};

function withoutApiKey(query: unknown): unknown {
  if (!query || typeof query !== 'object' || !Object.hasOwn(query, API_KEY_PARAM)) return query;
  const { [API_KEY_PARAM]: _key, ...rest } = query as Record<string, unknown>;
  return rest;
}

/**
 * Response schemas document what a route answers; they do not reshape it. Fastify would otherwise
 * compile them into serializers that drop every property a schema does not list, so a response is
 * written exactly as the handler built it (as it is for a route without a response schema), and the
 * route tests check that it matches its schema instead.
 */
export const jsonSerializerCompiler: FastifySerializerCompiler<TSchema> = () => (data) =>
  JSON.stringify(data);
