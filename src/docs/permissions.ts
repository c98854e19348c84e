/**
 * The README's "IAM permissions" section, generated from REQUIRED_PERMISSIONS (which is derived from
 * the AWS port). `npm run docs` rewrites the README; a test fails when the two drift apart.
 */
import { REQUIRED_PERMISSIONS } from '../aws/permissions.js';

const TITLES: Record<keyof typeof REQUIRED_PERMISSIONS, string> = {
  init: '`init` (apply)',
  initDryRun: '`init --dry-run` (read only; `--offline` needs none)',
  verify: '`verify` (reading IAM to explain a refusal; assuming the role itself needs no IAM permission)',
  audit: '`audit`',
  status: '`status`',
  destroy: '`destroy`',
  export: '`export` (read only, for the import blocks; `--offline` needs none)',
  migrate: '`migrate` (find: read only)',
  migrateApply: '`migrate --apply` (find, then `init` for each project)',
  migrateRetire: '`migrate --retire` (and `--delete-keys`)',
};

export const PERMISSIONS_START = '<!-- permissions:start -->';
export const PERMISSIONS_END = '<!-- permissions:end -->';

export function renderPermissionsSection(): string {
  const parts: string[] = [];
  for (const [scope, title] of Object.entries(TITLES) as [keyof typeof REQUIRED_PERMISSIONS, string][]) {
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: REQUIRED_PERMISSIONS[scope], Resource: '*' }],
    };
    parts.push(`${title}:\n\n\`\`\`json\n${JSON.stringify(policy, null, 2)}\n\`\`\``);
  }
  return parts.join('\n\n');
}

/** README text with the generated section put between the markers. */
export function updateReadme(readme: string): string {
  const start = readme.indexOf(PERMISSIONS_START);
  const end = readme.indexOf(PERMISSIONS_END);
  if (start < 0 || end < start) throw new Error('README.md lacks the permissions markers');
  return `${readme.slice(0, start + PERMISSIONS_START.length)}\n${renderPermissionsSection()}\n${readme.slice(end)}`;
}
