/** Settings from the environment, checked once at start-up so a typo fails loudly instead of at the first request. */

export interface Config {
  port: number;
  /** Shared secret the admin tools send in the `x-admin-token` header. Empty disables the admin routes. */
  adminToken: string;
  /** Orders left pending longer than this are cancelled by the nightly sweep. */
  pendingOrderTtlHours: number;
  /** Largest number of bags of one product in one order; bigger orders go through sales by phone. */
  maxBagsPerLine: number;
  logRequests: boolean;
}

export class ConfigError extends Error {
  constructor(variable: string, value: string, expected: string) {
    super(`${variable}="${value}" is not valid: expected ${expected}`);
    this.name = 'ConfigError';
  }
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, raw, `a whole number from ${min} to ${max}`);
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(name, raw, 'true or false');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: integer(env, 'PORT', 3000, 1, 65535),
    adminToken: env.STOCKROOM_ADMIN_TOKEN ?? '',
    pendingOrderTtlHours: integer(env, 'PENDING_ORDER_TTL_HOURS', 48, 1, 24 * 30),
    maxBagsPerLine: integer(env, 'MAX_BAGS_PER_LINE', 200, 1, 10_000),
    logRequests: flag(env, 'LOG_REQUESTS', true),
  };
}
