// Messages of the error envelope that the API (Fastify) and the worker's health server
// (ops-server.ts) both answer with, kept here so the two cannot drift and the worker's server
// needs nothing of Fastify to say them.

/** An unknown route or method: `No route POST /health/live` (the query left out). */
export const notFoundMessage = (method: string | undefined, url: string) =>
  `No route ${method} ${url.split('?')[0]}`;

/** A request arriving on an open connection while the server drains on shutdown. */
export const CLOSING_MESSAGE = 'This replica is shutting down; retry the request';
