/**
 * Issue 7, defect 8: init then destroy must give the file back exactly as it was, whitespace included
 * (final newline or not, trailing blank lines, CRLF, a byte order mark), and a file that held nothing
 * but the generated jobs is to be deleted (GitLab rejects an empty .gitlab-ci.yml).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { templatePath } from '../../src/io/package-root.js';
import { CI_TEMPLATE_FILE, renderCiSnippet } from '../../src/render/ci-file.js';
import { mergeCiFile } from '../../src/render/merge.js';
import { unmergeCiFile } from '../../src/render/unmerge.js';
import { baseInput, fixture, ROUND_TRIP_FIXTURES, verifyFromImage, whitespaceVariants } from './helpers.js';

const templateText = readFileSync(templatePath('gitlab-ci', CI_TEMPLATE_FILE), 'utf8');
const snippets = [renderCiSnippet(baseInput), renderCiSnippet({ ...baseInput, verify: verifyFromImage })];
const merge = (existing: string | undefined, snip: string) =>
  mergeCiFile(existing, snip, { force: false }).text;
// force: realistic.yml has a job that extends .aws-oidc (refused otherwise; the bytes are what matters here).
const unmerge = (text: string) => unmergeCiFile(text, { templateText, force: true });

describe('merge then unmerge is byte for byte', () => {
  it('found fixtures to test', () => {
    expect(ROUND_TRIP_FIXTURES).toEqual(['custom-stages.yml', 'legacy-jwt.yml', 'realistic.yml']);
  });

  for (const name of ROUND_TRIP_FIXTURES) {
    for (const [variant, original] of Object.entries(whitespaceVariants(fixture(name)))) {
      it(`${name}, ${variant}`, () => {
        for (const snip of snippets) {
          const merged = merge(original, snip);
          expect(merged.startsWith(original.replace(/\s+$/, ''))).toBe(true);
          const result = unmerge(merged);
          expect(JSON.stringify(result.text)).toBe(JSON.stringify(original));
          expect(result.deleteFile).toBe(false);
        }
      });
    }
  }

  it('a comments-only file keeps its comments and its final newline (or lack of one)', () => {
    for (const original of ['# nothing yet\n', '# nothing yet', '# nothing yet\n\n']) {
      const result = unmerge(merge(original, snippets[0]!));
      expect(result.text).toBe(original);
      expect(result.deleteFile).toBe(false);
      expect(result.empty).toBe(true);
    }
  });
});

describe('a file that only held the generated jobs', () => {
  it('is to be deleted, not left empty (created by init, or with a byte order mark)', () => {
    for (const original of [undefined, '', '\n', '\uFEFF']) {
      for (const snip of snippets) {
        const result = unmerge(merge(original, snip));
        expect(result.deleteFile).toBe(true);
        expect(result.text.replace(/^\uFEFF/, '').trim()).toBe('');
        expect(result.warnings.join('\n')).not.toMatch(/delete it or add jobs/);
      }
    }
  });

  it('is not deleted when anything else is left, even a comment', () => {
    const result = unmerge(`# keep me\n\n${snippets[0]}`);
    expect(result.deleteFile).toBe(false);
    expect(result.text).toBe('# keep me\n');
  });
});
