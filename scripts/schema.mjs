// Regenerates schemas/gitlab-aws-oidc.schema.json (the fleet config file's JSON Schema, for editors)
// from the zod schema in the built package (`npm run schema` builds first).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { renderFleetConfigJsonSchema } from '../dist/index.js';

const url = new URL('../schemas/gitlab-aws-oidc.schema.json', import.meta.url);
const before = await readFile(url, 'utf8').catch(() => '');
const after = renderFleetConfigJsonSchema();
if (after !== before) {
  await mkdir(new URL('../schemas/', import.meta.url), { recursive: true });
  await writeFile(url, after);
}
console.log(
  after === before
    ? 'schemas/gitlab-aws-oidc.schema.json is up to date'
    : 'schemas/gitlab-aws-oidc.schema.json written',
);
