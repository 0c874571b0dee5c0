import { compileSchema } from '@metarr/core';
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';

/**
 * Fastify validates with TypeBox's compiler, not Ajv: bodies are checked as sent (no type
 * coercion, extra properties kept); only querystring and params, which are strings on the wire,
 * are converted first. Errors keep Ajv's shape so Fastify's message reads `body/name must be string`.
 */
export const typeboxValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const v = compileSchema(schema);
  const convert = httpPart === 'querystring' || httpPart === 'params';
  return (data: unknown) => {
    const value = convert ? Value.Convert(schema, data) : data;
    if (v.check(value)) return { value };
    const issues = v.errors(value);
    const error = new Error(
      issues.map((i) => `${httpPart === 'body' ? 'body' : httpPart}${i.path} ${i.message}`).join(', '),
    );
    return { error };
  };
};
