import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CiSnippetInput } from '../../src/render/ci-file.js';

export const baseInput: CiSnippetInput = {
  roleArn: 'arn:aws:iam::123456789012:role/gitlab-ci-acme-web',
  region: 'eu-west-1',
  audience: 'https://gitlab.com',
  refs: [
    { type: 'branch', pattern: 'main' },
    { type: 'branch', pattern: 'release/*' },
    { type: 'tag', pattern: 'v*' },
  ],
  toolVersion: '0.1.0',
};

export function fixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../fixtures/ci/${name}`, import.meta.url)), 'utf8');
}

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/ci/${name}`, import.meta.url));
}
