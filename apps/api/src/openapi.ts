import type { FastifySchema, HTTPMethods } from 'fastify';
import type { Role } from './auth';

/** A route as registered (method, URL, its schemas, the role it needs). */
export interface DocumentedRoute {
  readonly method: HTTPMethods | HTTPMethods[];
  readonly url: string;
  readonly schema: FastifySchema | undefined;
  readonly role: Role | undefined;
}

type JsonSchema = Record<string, unknown>;

/** A TypeBox or plain JSON schema as plain JSON (TypeBox's symbol keys dropped). */
function plain(schema: unknown): JsonSchema {
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

/** `/tasks/:queue/:id` → `/tasks/{queue}/{id}`. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(schema: unknown, where: 'path' | 'query' | 'header'): JsonSchema[] {
  if (!schema) return [];
  const s = plain(schema);
  const properties = (s['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((s['required'] ?? []) as string[]);
  return Object.entries(properties).map(([name, p]) => {
    const { description, ...rest } = p;
    return { name, in: where, required: where === 'path' || required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

/**
 * The OpenAPI 3.1 document of the registered routes, made from the same
 * schemas that validate the requests and shape the responses.
 */
export function openApiDocument(routes: readonly DocumentedRoute[], version: string, secured: boolean): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const schema: FastifySchema = route.schema ?? {};
    if (schema.hide) continue;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const path = openApiPath(route.url);
    for (const method of methods) {
      const responses: Record<string, JsonSchema> = {};
      for (const [code, body] of Object.entries((schema.response ?? {}) as Record<string, unknown>)) {
        const b = plain(body);
        const text = b['type'] === 'string';
        const media = typeof b['contentMediaType'] === 'string' ? b['contentMediaType'] : text ? 'text/plain' : 'application/json';
        responses[code] = {
          description: typeof b['description'] === 'string' ? b['description'] : text ? 'text' : `${code} response`,
          content: { [media]: { schema: b } },
        };
      }
      const operation: JsonSchema = {
        ...(schema.summary ? { summary: schema.summary } : {}),
        parameters: [...parameters(schema.params, 'path'), ...parameters(schema.querystring, 'query'), ...parameters(schema.headers, 'header')],
        responses,
      };
      if (schema.body) operation['requestBody'] = { required: true, content: { 'application/json': { schema: plain(schema.body) } } };
      if (route.role) {
        operation['security'] = secured ? [{ bearer: [] }] : [];
        operation['x-taskq-role'] = route.role;
      }
      (paths[path] ??= {})[method.toLowerCase()] = operation;
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'taskq API',
      version,
      description: 'Submit, read, cancel and retry taskq tasks. GET routes need a read or admin token, the others an admin token (when tokens are configured).',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
