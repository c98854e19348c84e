// Regenerates the README's IAM permissions section from the built package (run `npm run build` first).
import { readFile, writeFile } from 'node:fs/promises';
import { updateReadme } from '../dist/index.js';

const url = new URL('../README.md', import.meta.url);
const before = await readFile(url, 'utf8');
const after = updateReadme(before);
if (after !== before) await writeFile(url, after);
console.log(after === before ? 'README.md is up to date' : 'README.md updated');
