import './nodeVersionCheck.ts';
import { enableCompileCache } from 'node:module';

/**
 * Entry point. The version check runs before the connector's modules load; then Node's on-disk
 * compile cache is turned on for this process and, through the environment they inherit, its
 * worker threads: a restarted replica or a respawned worker reads about 250 compiled modules
 * from the cache instead of stripping and compiling them again, about 40 % less start-up CPU
 * (docs/performance.md, "Start-up"). It is an optimisation only: where the cache directory
 * cannot be written (`NODE_COMPILE_CACHE`, else the system temp directory) the connector starts
 * without it, and says so in its "listening" line (`compileCache`).
 */
const cache = enableCompileCache();
if (cache.directory !== undefined) process.env['NODE_COMPILE_CACHE'] ??= cache.directory;

await import('./connectorMain.ts');
