import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REQUIRED_PERMISSIONS } from '../src/aws/permissions.js';
import { updateReadme } from '../src/docs/permissions.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('lists exactly the IAM permissions the AWS port needs (run `npm run docs` after changing them)', () => {
    expect(updateReadme(readme)).toBe(readme);
    for (const action of REQUIRED_PERMISSIONS.init) expect(readme).toContain(`"${action}"`);
  });

  it('shows the test command and a quick start that runs without AWS', () => {
    expect(readme).toContain('npm test');
    expect(readme).toMatch(/npm install && npx gitlab-aws-oidc init --dry-run --offline/);
  });
});
