import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Middleware } from 'koa';
import serve from 'koa-static';

/**
 * The demo browser client (client-demo/, built into client-demo/dist by `npm run build`) at /.
 * API and docs paths never touch the file system.
 */
export function demoClientMiddleware(directory = clientDirectory()): Middleware {
  const files = serve(directory, { index: 'index.html' });
  return (ctx, next) => (ctx.path.startsWith('/api') || ctx.path.startsWith('/docs') ? next() : files(ctx, next));
}

/** client-demo/dist of the project this file belongs to, whether it runs from src/ or dist/. */
function clientDirectory(): string {
  let directory = __dirname;
  while (!existsSync(path.join(directory, 'package.json')) && path.dirname(directory) !== directory) directory = path.dirname(directory);
  return path.join(directory, 'client-demo', 'dist');
}
