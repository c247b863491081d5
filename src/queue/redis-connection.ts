import type { ConnectionOptions } from 'bullmq';

/**
 * ioredis options from a redis:// or rediss:// URL (user, password, db number
 * as path). Producers fail fast while Redis is down (the database keeps the
 * truth and the reconciler re-enqueues); workers wait for it to come back.
 */
export function redisConnection(url: string, role: 'producer' | 'worker'): ConnectionOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    ...(role === 'worker'
      ? // Required by BullMQ workers: blocking commands wait while Redis restarts.
        { maxRetriesPerRequest: null }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 }),
  };
}
