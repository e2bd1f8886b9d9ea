// The Fastify app factory. Tests call it and use inject(); the service calls it and listens.
import formbody from '@fastify/formbody';
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import helmet from 'helmet';
import type { Redis } from 'ioredis';
import type { Config } from '../../config.ts';
import type { Logger } from '../log.ts';
import { tracingEnabled } from '../tracing/tracing.ts';
import { SERVICE_NAME, SERVICE_VERSION } from '../version.ts';
import { fastifyTrustProxy } from './addresses.ts';
import { installCardNumberPolicy } from './card-policy.ts';
import { clientErrorHandler } from './client-errors.ts';
import { installClosingAnswer } from './closing.ts';
import { createCredentialFailures, installCredentialFailures } from './credential-failures.ts';
import { installErrorHandling, sendError } from './error-handler.ts';
import { installInputPolicy } from './input-policy.ts';
import { type OpsDependencies, registerOpsRoutes } from './ops-routes.ts';
import { fallbackStoreClass } from './rate-limit-store.ts';
import { requestIdFor } from './request-id.ts';
import { installRequestMetrics } from './request-metrics.ts';

export type HttpApp = FastifyInstance;
export type ZodApp = ReturnType<FastifyInstance['withTypeProvider']> & FastifyInstance;

export interface HttpAppOptions {
  config: Config['http'];
  log: Logger;
  ops: OpsDependencies;
  /** Shared store for rate limits across replicas; in-memory when absent. */
  redis?: Redis | null;
  /** Where `/` sends a browser (the console); `/` answers JSON to everyone else. */
  browserHome?: string;
  /** Registers the apps' routes (after the platform's plugins, so they are documented and protected). */
  routes?: (app: FastifyInstance) => Promise<void> | void;
}

export async function buildHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.log as FastifyBaseLogger,
    bodyLimit: options.config.bodyLimitBytes,
    trustProxy: fastifyTrustProxy(options.config.trustProxy),
    requestIdHeader: false,
    genReqId: (request) => requestIdFor(request.headers['x-request-id']),
    ajv: { customOptions: { removeAdditional: false } },
    // Errors Fastify and Node's parser answer before any route runs get the one envelope too:
    // bad percent-encoding, over-long path parameters, oversized headers, malformed requests.
    frameworkErrors: (error, request, reply) => sendError(error, request, reply),
    clientErrorHandler,
    // Fastify's own 503 while closing has no envelope: installClosingAnswer answers with ours.
    return503OnClosing: false,
  });
  // First, so every other hook and the handler run inside the request's span.
  if (tracingEnabled()) (await import('../tracing/http.ts')).traceRequests(app);
  installClosingAnswer(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  installInputPolicy(app);
  installCredentialFailures(
    app,
    createCredentialFailures({
      perMinute: options.config.authFailuresPerMinute,
      redis: options.redis ?? null,
    }),
  );
  installCardNumberPolicy(app);
  installRequestMetrics(app, options.ops.metrics);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // helmet's security headers on every answer, its middleware built once: @fastify/helmet built it
  // again for every request (parsing the CSP directives each time), a tenth of what a /chat message
  // allocated. No route has helmet options of its own.
  const securityHeaders = helmet();
  // helmet throws rather than passing an error on (since 8.1), so `next` only ever means "done".
  app.addHook('onRequest', (request, reply, done) => securityHeaders(request.raw, reply.raw, () => done()));
  await app.register(formbody);
  await app.register(rateLimit, {
    global: false,
    ...(options.redis
      ? {
          store: fallbackStoreClass({
            redis: options.redis,
            log: options.log,
            registry: options.ops.metrics.registry,
            nameSpace: 'switchboard-rl:',
          }) as unknown as FastifyRateLimitStoreCtor,
        }
      : {}),
  });
  await registerDocs(app);

  registerOpsRoutes(app, {
    ...options.ops,
    ...(options.browserHome ? { browserHome: options.browserHome } : {}),
  });
  if (options.routes)
    await options.routes(app.withTypeProvider<ZodTypeProvider>() as unknown as FastifyInstance);
  await app.ready();
  app.log.debug({ service: SERVICE_NAME }, 'http app ready');
  return app;
}

/** The OpenAPI document of every route registered after it, and the Swagger UI over it. */
async function registerDocs(app: FastifyInstance): Promise<void> {
  const [{ default: swagger }, { default: swaggerUi }] = await Promise.all([
    import('@fastify/swagger'),
    import('@fastify/swagger-ui'),
  ]);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Switchboard',
        description:
          'Operations messaging bots on one platform. Errors are `{ error: { code, message, requestId } }`.',
        version: SERVICE_VERSION,
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
