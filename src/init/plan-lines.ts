/**
 * The values of an `init` plan, one field change at a time: from → to for scalars, `+`/`-` by ARN for
 * attachments, key by key for tags, a diff for the permission policy. A change that needs consent (it
 * widens access, overwrites drift, or removes what the tool did not create) is red and names its flag.
 * Pure: plan + palette → lines.
 */
import { formatHours } from '../core/duration.js';
import { RECORD_TAG_KEYS } from '../core/ownership.js';
import { policyDiff } from '../core/policy-json.js';
import { refLabel } from '../core/protected-refs.js';
import {
  CONSENT_FLAGS,
  type Consent,
  type ConsentItem,
  type FieldChange,
  type ResourcePlan,
  type Tags,
} from '../core/types.js';
import type { Palette } from '../io/colors.js';
import type { InitResult } from './result.js';

const INDENT = '      ';
const SUB = '        ';

const LABEL: Partial<Record<string, string>> = {
  trustPolicy: 'trust policy',
  maxSessionDuration: 'max session',
  permissionsBoundaryArn: 'permissions boundary',
  managedPolicyArns: 'attached policies',
  document: 'permission policy document',
  clientIds: 'audiences',
  thumbprints: 'thumbprints',
  description: 'description',
  tags: 'tags',
};

/** What each consent is about, in the plan's consent section. */
const CONSENT_REASON: Record<Consent, string> = {
  'overwrite-drift': 'changed outside gitlab-aws-oidc since it last wrote it',
  'allow-widening': 'widens who can assume the role or what it may do',
  'detach-unowned': 'removes something gitlab-aws-oidc did not create',
  'change-sub-claim': 'changes the sub of every ID token of the project',
};

const CONSENT_ORDER: Consent[] = ['change-sub-claim', 'overwrite-drift', 'allow-widening', 'detach-unowned'];

function show(value: unknown): string {
  if (value === undefined || value === null || value === '') return '(none)';
  if (Array.isArray(value)) return value.length ? value.map(show).join(', ') : '(none)';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A list of ARNs or audiences; one change may also carry a single one (`to: 'arn:…'`). */
const asList = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : typeof v === 'string' && v !== '' ? [v] : [];
const asTags = (v: unknown): Tags => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Tags) : {});

/** Whether the change needs a consent or is flagged (red). */
export function needsConsent(c: FieldChange): boolean {
  return Boolean(c.broadening || c.drift || c.needs?.length);
}

/** `  [changed outside the tool; widens access; needs --overwrite-drift]`, or '' for an ordinary change. */
function annotation(c: FieldChange): string {
  const parts = [
    c.drift ? 'changed outside the tool' : undefined,
    c.broadening ? 'widens access' : undefined,
    c.needs?.length ? `needs ${c.needs.map((n) => CONSENT_FLAGS[n]).join(', ')}` : undefined,
  ].filter(Boolean);
  return parts.length ? `  [${parts.join('; ')}]` : '';
}

/** The body of one change: a headline (`label: from → to` or `label:`) and the lines under it. */
function describeChange(c: FieldChange): { head: string; body: string[] } {
  const label = LABEL[c.field] ?? c.field;
  switch (c.field) {
    case 'trustPolicy':
      return { head: `${label}: changes (diff below)`, body: [] };
    case 'maxSessionDuration': {
      const s = (v: unknown) => (typeof v === 'number' ? `${v} s (${formatHours(v)})` : show(v));
      return { head: `${label}: ${s(c.from)} → ${s(c.to)}`, body: [] };
    }
    case 'description':
      return { head: `${label}: ${JSON.stringify(c.from ?? '')} → ${JSON.stringify(c.to ?? '')}`, body: [] };
    case 'managedPolicyArns': {
      const from = asList(c.from);
      const to = asList(c.to);
      const body = [
        ...to.filter((a) => !from.includes(a)).map((a) => `+ ${a}`),
        ...from.filter((a) => !to.includes(a)).map((a) => `- ${a}`),
      ];
      return { head: `${label}:`, body };
    }
    case 'clientIds': {
      const from = asList(c.from);
      const to = asList(c.to);
      const changes = [
        ...to.filter((a) => !from.includes(a)).map((a) => `+ ${a}`),
        ...from.filter((a) => !to.includes(a)).map((a) => `- ${a}`),
      ];
      return { head: `${label}: ${changes.join(', ')}`, body: [] };
    }
    case 'document':
      return { head: `${label}:`, body: policyDiff(c.from, c.to) };
    case 'tags':
      return { head: `${label}:`, body: tagLines(asTags(c.from), asTags(c.to)) };
    default:
      return { head: `${label}: ${show(c.from)} → ${show(c.to)}`, body: [] };
  }
}

/** Tags key by key (`+ k: v`, `- k: v`, `~ k: old → new`); the tool's record tags as one count. */
function tagLines(from: Tags, to: Tags): string[] {
  const lines: string[] = [];
  let record = 0;
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  for (const key of keys) {
    const [a, b] = [from[key], to[key]];
    if (a === b) continue;
    if (RECORD_TAG_KEYS.includes(key)) {
      record++;
      continue;
    }
    if (a === undefined) lines.push(`+ ${key}: ${b}`);
    else if (b === undefined) lines.push(`- ${key}: ${a}`);
    else lines.push(`~ ${key}: ${a} → ${b}`);
  }
  if (record) lines.push(`(+ ${record} gitlab-aws-oidc record tag${record === 1 ? '' : 's'})`);
  return lines;
}

/** The lines under a resource: each change of an update with its values, what is kept, who else uses it. */
export function changeLines(r: ResourcePlan, p: Palette): string[] {
  const lines: string[] = [];
  // A create's values are the whole resource (see --json); an update shows what moves.
  const changes = r.action === 'update' ? r.changes : [];
  // Several attachment changes (one per ARN, each with its own consent) share one heading.
  const attachments = changes.filter((c) => c.field === 'managedPolicyArns');
  let attachmentsShown = false;
  for (const c of changes) {
    if (c.field === 'managedPolicyArns' && attachments.length > 1) {
      if (attachmentsShown) continue;
      attachmentsShown = true;
      lines.push(...attachmentLines(attachments, p));
      continue;
    }
    const { head, body } = describeChange(c);
    const flagged = needsConsent(c);
    lines.push(`${INDENT}${flagged ? p.danger(`${head}${annotation(c)}`) : head}`);
    for (const l of body) {
      const colored = flagged
        ? p.danger(l)
        : l.startsWith('+')
          ? p.good(l)
          : l.startsWith('-')
            ? p.danger(l)
            : p.muted(l);
      lines.push(`${SUB}${colored}`);
    }
  }
  for (const note of r.notes ?? []) lines.push(`${INDENT}${p.muted(note)}`);
  if (r.action === 'update' && r.usedBy?.length) lines.push(`${INDENT}used by: ${r.usedBy.join(', ')}`);
  return lines;
}

/** Several attachment changes under one `attached policies:` heading, each `+`/`-` line with its flag. */
function attachmentLines(changes: FieldChange[], p: Palette): string[] {
  const flagged = changes.some(needsConsent);
  const lines = [
    `${INDENT}${flagged ? p.danger(`${LABEL.managedPolicyArns}:`) : `${LABEL.managedPolicyArns}:`}`,
  ];
  for (const c of changes) {
    for (const l of describeChange(c).body) {
      const text = `${l}${annotation(c)}`;
      lines.push(
        `${SUB}${needsConsent(c) ? p.danger(text) : l.startsWith('+') ? p.good(text) : p.danger(text)}`,
      );
    }
  }
  return lines;
}

/** The red "Needs your explicit consent" section: plan.consents grouped by consent, with the flag. */
export function consentLines(consents: readonly ConsentItem[], p: Palette): string[] {
  if (!consents.length) return [];
  const lines = ['', p.danger('Needs your explicit consent:')];
  for (const consent of CONSENT_ORDER) {
    const items = consents.filter((c) => c.consent === consent);
    if (!items.length) continue;
    const flag = items[0]?.flag ?? CONSENT_FLAGS[consent];
    lines.push(`  ${p.danger(`${flag} (${CONSENT_REASON[consent]}):`)}`);
    // Each message names its resource (`Role x: …`), as the prompt and the error print it.
    for (const item of items) lines.push(`    ${p.danger(item.message)}`);
  }
  return lines;
}

/**
 * The GitLab part of the plan: the project as GitLab knows it, each allowed ref with the rule that
 * protects it (or not). The GitLab changes are rows of the plan table (format.ts).
 */
export function gitlabLines(result: Pick<InitResult, 'gitlab'>, p: Palette): string[] {
  const lines: string[] = [];
  const facts = result.gitlab?.project;
  if (facts) {
    const branch = facts.defaultBranch ? `, default branch ${facts.defaultBranch}` : '';
    lines.push(
      `  ${p.muted('= read  ')}  ${'GitLab'.padEnd(13)}  ${facts.path} (project ID ${facts.id}, namespace ID ${facts.namespaceId}${branch})`,
    );
    if (facts.movedFrom) lines.push(`${INDENT}${p.danger(`moved from ${facts.movedFrom}`)}`);
  }
  for (const r of result.gitlab?.refs ?? []) {
    const text = r.protectedBy
      ? `${p.good('✓')} ${refLabel(r.ref)}: protected${r.source === 'branch' ? ' (the branch says so; rules not readable)' : r.protectedBy === r.ref.pattern ? '' : ` by rule ${r.protectedBy}`}`
      : r.source === 'unknown'
        ? p.warn(`? ${refLabel(r.ref)}: not known (the protection rules are not readable with this token)`)
        : r.willProtect
          ? `${p.change('~')} ${refLabel(r.ref)}: not protected; protected by this run (rule ${r.willProtect})`
          : p.warn(
              `! ${refLabel(r.ref)}: not protected${r.partly.length ? ` (only ${r.partly.join(', ')})` : ''}`,
            );
    lines.push(`${INDENT}${text}`);
  }
  return lines;
}
