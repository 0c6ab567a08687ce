// Worker entry: TypeScript sources need the tsx loader inside the worker too; a built tree has .js files.
import fs from 'node:fs';

const ts = new URL('./fetch-worker.ts', import.meta.url);
if (fs.existsSync(ts)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(ts.href);
} else {
  await import(new URL('./fetch-worker.js', import.meta.url).href);
}
