import { readdirSync, readFileSync } from 'node:fs';
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

/** Every fixture init can merge into without --force (user-job-conflict.yml needs --force: its job is lost). */
export const ROUND_TRIP_FIXTURES = readdirSync(fileURLToPath(new URL('../fixtures/ci/', import.meta.url)))
  .filter((n) => n.endsWith('.yml') && n !== 'user-job-conflict.yml')
  .sort();

/** The whitespace variants of a file that a round trip must keep. */
export function whitespaceVariants(text: string): Record<string, string> {
  const body = text.replace(/\s+$/, '');
  return {
    'as is': text,
    'no final newline': body,
    'one trailing blank line': `${body}\n\n`,
    'three trailing blank lines, one with spaces': `${body}\n\n  \n\n`,
    CRLF: `${body.replace(/\n/g, '\r\n')}\r\n`,
    'CRLF, no final newline': body.replace(/\n/g, '\r\n'),
    'byte order mark': `\uFEFF${text}`,
  };
}

/** A verify job from an image pinned by digest (what --verify-image takes without consent). */
export const VERIFY_IMAGE = `registry.example.com/tools/gitlab-aws-oidc:0.1.0@sha256:${'ab'.repeat(32)}`;
export const verifyFromImage = { kind: 'image', image: VERIFY_IMAGE } as const;
