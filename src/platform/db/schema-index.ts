// Every table of the platform, for the typed query builder. Apps add theirs as they arrive.

export * from '../channels/schema.ts';
export * from './schema.ts';
