/** Entry point: load settings, seed the in-memory store, listen, and sweep stale orders every hour. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { MemoryStore, type Seed } from './store/memoryStore';

function loadSeed(): Seed {
  const file = process.env.STOCKROOM_SEED ?? path.join(__dirname, '..', 'test', 'fixtures', 'products.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Seed;
  } catch (error) {
    console.warn(`stockroom: starting empty, could not read seed data from ${file}: ${(error as Error).message}`);
    return {};
  }
}

function main(): void {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`stockroom: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  if (!config.adminToken) console.warn('stockroom: STOCKROOM_ADMIN_TOKEN is not set; admin routes will refuse every request');

  const { app, orders } = createApp({ config, store: new MemoryStore(loadSeed()) });
  const server = app.listen(config.port, () => console.log(`stockroom: listening on http://localhost:${config.port}`));

  const sweep = setInterval(() => {
    const expired = orders.expireStalePending();
    if (expired.length) console.log(`stockroom: cancelled ${expired.length} stale pending order(s): ${expired.join(', ')}`);
  }, 3_600_000);
  sweep.unref();

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`stockroom: ${signal}, closing`);
      clearInterval(sweep);
      server.close(() => process.exit(0));
    });
  }
}

main();
