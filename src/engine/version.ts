/**
 * Part of every cache key: bump it whenever a change alters any stored number,
 * so results computed by older code are recomputed instead of served.
 */
export const ENGINE_VERSION = 'frankenscope-engine/3';
