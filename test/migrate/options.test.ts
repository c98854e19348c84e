import { describe, expect, it } from 'vitest';
import { parseMigrateFlags } from '../../src/migrate/options.js';

describe('migrate flags', () => {
  it('bad --project and --group values are named, with every problem at once', () => {
    let error: unknown;
    try {
      parseMigrateFlags({ project: ['noslash'], group: 'acme/*', gitlabApiUrl: 'ftp://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ exitCode: 2 });
    const fields = (error as { issues: { field: string }[] }).issues.map((i) => i.field).sort();
    expect(fields).toEqual(['--gitlab-api-url', '--group', '--project']);
  });
});
