import mount from 'koa-mount';
import serve from 'koa-static';
import type { Middleware } from 'koa';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponseObject } from 'zod-openapi';
import { z } from 'zod';
import { ErrorResponse } from './schemas';
import { BODY_MEDIA_TYPES, type Route } from './route';

// absolute-path.js, not the package's main: that would load the whole Swagger UI bundle into memory.
const SWAGGER_UI_DIR = (require('swagger-ui-dist/absolute-path.js') as () => string)();

/** Builds the OpenAPI 3.1 document from the same route definitions that validate requests. */
export function buildOpenApiDocument(routes: Route[], prefix: string, version: string, moreDescription = ''): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    const path = `${prefix}${route.path}`;
    paths[path] ??= {};
    paths[path][route.method] = operation(route);
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'NeoFi Event Management API',
      version,
      description:
        `Collaborative event management. Every path is also served under \`/api\` (the original prefix). ` +
        'Errors always have the shape `{"error": {"code", "message", "details?"}}`.' +
        moreDescription,
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    paths,
  });
}

function operation(route: Route): ZodOpenApiOperationObject {
  const errorContent = { 'application/json': { schema: ErrorResponse } };
  const responses: Record<string, ZodOpenApiResponseObject> = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    responses[status] = {
      description: spec.description,
      ...(spec.schema ? { content: { [spec.mediaType ?? 'application/json']: { schema: spec.schema } } } : {}),
      ...(spec.headers
        ? { headers: Object.fromEntries(Object.entries(spec.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }])) }
        : {}),
    };
  }
  if (!route.public) {
    responses['401'] ??= { description: 'Missing, invalid or expired access token', content: errorContent };
    responses['429'] ??= { description: "Past the caller's request budget (REQUEST_BURST, REQUEST_RATE); Retry-After says when to send again", content: errorContent };
  }
  if (route.params || route.query || route.body) {
    responses['422'] ??= { description: 'Invalid input; `details.fields` names each problem', content: errorContent };
  }
  responses['503'] ??= {
    description: 'The database is unreachable; try again after `Retry-After` seconds',
    content: errorContent,
    headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'string' } } },
  };

  const formats = route.bodyFormats ?? ['json'];
  const headers = Object.entries(route.requestHeaders ?? {});
  return {
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(route.public ? {} : { security: [{ bearer: [] }] }),
    requestParams: {
      ...(route.params ? { path: route.params as z.ZodObject } : {}),
      ...(route.query ? { query: route.query as z.ZodObject } : {}),
      ...(headers.length
        ? { header: z.object(Object.fromEntries(headers.map(([name, description]) => [name.toLowerCase(), z.string().optional().meta({ description })]))) }
        : {}),
    },
    ...(route.body
      ? { requestBody: { required: true, content: Object.fromEntries(formats.map((format) => [BODY_MEDIA_TYPES[format], { schema: route.body! }])) } }
      : {}),
    responses,
  };
}

const SWAGGER_INITIALIZER = `window.onload = () => {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
};
`;

/** `/openapi.json`, and Swagger UI at `/docs` with its assets from the swagger-ui-dist package. */
export function docsMiddleware(document: object): Middleware {
  const assets = mount('/docs', serve(SWAGGER_UI_DIR));
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/openapi.json') {
      ctx.body = document;
    } else if (ctx.path === '/docs') {
      ctx.redirect('/docs/');
    } else if (ctx.path === '/docs/swagger-initializer.js') {
      ctx.type = 'application/javascript';
      ctx.body = SWAGGER_INITIALIZER;
    } else {
      await assets(ctx, next);
    }
  };
}
