/** The whole drizzle schema: the chat platform's tables and statcache's cache tables. */
export * from './cache-tables.js';
export * from './chat-tables.js';
