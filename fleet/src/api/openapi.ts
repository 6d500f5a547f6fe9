import type { FastifyInstance, RouteOptions } from 'fastify';

interface Collected {
  method: string;
  url: string;
  schema: Record<string, unknown>;
  action: string | undefined;
  summary: string | undefined;
}

/**
 * The OpenAPI 3.1 document, collected from the routes' own JSON schemas as they register, so it
 * cannot drift from what the server validates. Call before the routes are added.
 */
export function collectOpenApi(app: FastifyInstance): () => Record<string, unknown> {
  const routes: Collected[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    if (!r.url.startsWith('/api/')) return;
    for (const method of [r.method].flat()) {
      if (method === 'HEAD') continue;
      routes.push({
        method: method.toLowerCase(),
        url: r.url,
        schema: (r.schema ?? {}) as Record<string, unknown>,
        action: r.config?.action,
        summary: r.config?.summary,
      });
    }
  });
  return () => {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of routes) {
      const path = r.url.replace(/:(\w+)/g, '{$1}');
      const params = [...r.url.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
      const query = r.schema.querystring as { properties?: Record<string, Record<string, unknown>> } | undefined;
      for (const [name, schema] of Object.entries(query?.properties ?? {})) {
        params.push({ name, in: 'query', required: false, schema: schema as { type: string } });
      }
      paths[path] ??= {};
      (paths[path] as Record<string, unknown>)[r.method] = {
        summary: r.summary,
        'x-action': r.action,
        parameters: params,
        ...(r.schema.body ? { requestBody: { required: true, content: { 'application/json': { schema: r.schema.body } } } } : {}),
        responses: { default: { description: 'JSON; errors are { error: { code, message, path? } }' } },
        ...(r.action ? { security: [{ bearer: [] }] } : {}),
      };
    }
    return {
      openapi: '3.1.0',
      info: { title: 'Shouwang fleet API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      paths,
    };
  };
}
