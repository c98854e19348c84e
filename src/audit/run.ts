/**
 * `audit`: every IAM OIDC provider and every role that federates to one, linted with the shared
 * linter; or one role (`--role`), or a trust policy file offline (`--policy-file`, no AWS call).
 *
 * Reads only. Roles come from paginated ListRoles (trust policies, session durations) and the
 * paginated bulk read GetAccountAuthorizationDetails (attachments, tags, boundaries, and the
 * customer managed policies with their documents): about 2 calls per 100 roles instead of a GetRole
 * and a ListAttachedRolePolicies per role. Only AWS managed policies attached to a federated role get
 * a GetPolicy/GetPolicyVersion, once each, with at most `concurrency` calls in flight. If the bulk
 * read is refused, each federated role gets a GetRole as before. A resource that cannot be read is
 * listed under `incomplete` and the audit goes on.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import { readAccountDetails, roleStateOf } from '../aws/account-snapshot.js';
import type { AccountAuthorizationDetails, AwsPorts, IamPort, RoleSummary } from '../aws/ports.js';
import { mapWithConcurrency, memoizeAsync } from '../core/concurrency.js';
import {
  classifyAccess,
  countBySeverity,
  type Finding,
  type LintProvider,
  lintMaxSessionDuration,
  lintPermissions,
  lintProviderUsage,
  lintTrustPolicy,
  type PermissionSource,
  providerHost,
  sortFindings,
  trustStatements,
} from '../core/lint.js';
import { parsePolicyJson } from '../core/policy-json.js';
import {
  GITLAB_URL_TAG,
  isToolManaged,
  type OidcProviderState,
  type PolicyDocument,
  type RoleState,
} from '../core/types.js';
import { AbortError, CliError, UsageError } from '../errors.js';
import { projectsTrustedBy } from '../fleet/trust-match.js';
import type { GitlabPort } from '../gitlab/api/ports.js';
import { checkProtectionFindings } from './gitlab-refs.js';
import type { AuditOptions } from './options.js';
import {
  type AuditedProvider,
  type AuditedRole,
  type AuditReport,
  type AuditSelection,
  finishReport,
} from './report.js';

export interface AuditDeps {
  /** Builds the AWS ports (lazily: `--policy-file` never calls it). */
  aws?: (() => Promise<AwsPorts> | AwsPorts) | undefined;
  readFile?: ((path: string) => Promise<string>) | undefined;
  /** Progress lines (stderr). */
  progress?: ((message: string) => void) | undefined;
  /**
   * The GitLab API of an instance, when a token for it is there (undefined otherwise): the
   * "unprotected ref" findings of roles on its provider are then checked against its protection rules.
   */
  gitlab?: ((gitlabUrl: string) => (() => Promise<GitlabPort>) | undefined) | undefined;
}

const asList = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** OIDC provider ARNs a trust policy federates to (Allow statements). */
export function federatedProviderArns(doc: PolicyDocument): string[] {
  const arns = new Set<string>();
  for (const st of trustStatements(doc)) {
    if (st.Effect !== 'Allow' || !st.Principal || st.Principal === '*' || typeof st.Principal !== 'object')
      continue;
    for (const v of asList(st.Principal.Federated)) if (v.includes(':oidc-provider/')) arns.add(v);
  }
  return [...arns];
}

/** A role worth auditing: federates to an OIDC provider, or lets any principal in by web identity. */
export function isWebIdentityRole(doc: PolicyDocument): boolean {
  if (federatedProviderArns(doc).length > 0) return true;
  return trustStatements(doc).some((st) => {
    if (st.Effect !== 'Allow') return false;
    const anyone =
      st.Principal === '*' ||
      (typeof st.Principal === 'object' &&
        Object.values(st.Principal).some((v) => asList(v as string | string[]).includes('*')));
    if (!anyone) return false;
    return asList(st.Action).some((a) =>
      /^(\*|sts:\*|sts:assumerolewith\*|sts:assumerolewithwebidentity)$/i.test(a),
    );
  });
}

function describeError(error: unknown): string {
  if (error instanceof CliError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

function subValues(doc: PolicyDocument): string[] {
  const values: string[] = [];
  for (const st of trustStatements(doc)) {
    for (const keys of Object.values(st.Condition ?? {})) {
      if (!keys || typeof keys !== 'object') continue;
      for (const [k, v] of Object.entries(keys)) {
        if (k.toLowerCase().endsWith(':sub')) values.push(...(Array.isArray(v) ? v : [v]).map(String));
      }
    }
  }
  return values;
}

function isGitlabProvider(p: OidcProviderState, trusting: RoleSummary[]): boolean {
  if (p.tags[GITLAB_URL_TAG]) return true;
  const host = providerHost(p.url);
  if (host === 'gitlab.com' || /(^|[./])gitlab[.-]/.test(host) || host.startsWith('gitlab')) return true;
  return trusting.some((r) => subValues(r.trustPolicy).some((v) => /^project_(path|id):/.test(v)));
}

async function auditFile(options: AuditOptions, deps: AuditDeps): Promise<AuditReport> {
  const path = options.policyFile as string;
  const read = deps.readFile ?? ((p: string) => fsReadFile(p, 'utf8'));
  let text: string;
  try {
    text = await read(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw UsageError.field(
      '--policy-file',
      code === 'ENOENT'
        ? `${path} does not exist`
        : code === 'EISDIR'
          ? `${path} is a directory`
          : `cannot read ${path}: ${describeError(error)}`,
    );
  }
  let doc: PolicyDocument;
  try {
    doc = parsePolicyJson(text, '--policy-file') as unknown as PolicyDocument;
  } catch (error) {
    // Name the file: "--policy-file: is not valid JSON" alone does not say which one.
    if (!(error instanceof UsageError)) throw error;
    throw UsageError.field('--policy-file', `${path} ${error.issues[0]?.message ?? error.message}`);
  }
  const statements = (doc as { Statement?: unknown }).Statement;
  if (statements === undefined || statements === null || typeof statements !== 'object') {
    throw UsageError.field('--policy-file', `${path} has no "Statement" (is it an IAM policy document?)`);
  }
  const uri = path.replace(/\\/g, '/').replace(/^\.\//, '');
  const findings = lintTrustPolicy(doc, { isWriteRole: options.writeRole }).map(
    (f): Finding => ({ ...f, target: { kind: 'file', id: uri } }),
  );
  return finishReport({
    scope: 'file',
    file: path,
    failOn: options.failOn,
    providers: [],
    roles: [],
    findings: sortFindings(findings),
    incomplete: [],
    artifacts: [{ uri, text }],
  });
}

async function readProviders(iam: IamPort, concurrency: number, incomplete: AuditReport['incomplete']) {
  const arns = await iam.listOidcProviderArns();
  const providers = await mapWithConcurrency(arns, concurrency, async (arn) => {
    try {
      return await iam.getOidcProvider(arn);
    } catch (error) {
      // Ctrl-C/SIGTERM ends the run (exit 130): it is not a resource that could not be read.
      if (error instanceof AbortError) throw error;
      incomplete.push({ resource: arn, error: describeError(error) });
      return undefined;
    }
  });
  return providers.filter((p): p is OidcProviderState => p !== undefined);
}

export async function runAudit(options: AuditOptions, deps: AuditDeps = {}): Promise<AuditReport> {
  if (options.policyFile) return auditFile(options, deps);
  if (!deps.aws) throw new Error('runAudit: deps.aws is required without --policy-file');
  const { iam, sts } = await deps.aws();
  const progress = deps.progress ?? (() => {});
  const identity = await sts.getCallerIdentity();
  const incomplete: AuditReport['incomplete'] = [];

  progress('Reading OIDC providers…');
  const providers = await readProviders(iam, options.concurrency, incomplete);

  let summaries: RoleSummary[];
  let allRoles: RoleSummary[];
  let details: AccountAuthorizationDetails | undefined;
  if (options.role) {
    const role = await iam.getRole(options.role);
    if (!role) {
      throw new CliError(
        'ROLE_NOT_FOUND',
        `Role ${options.role} does not exist in account ${identity.account}.`,
        {
          hint: 'Check the name (not the ARN) and the account of your credentials; run `gitlab-aws-oidc audit` to list every federated role.',
        },
      );
    }
    summaries = [role];
    allRoles = [role];
  } else {
    progress('Listing roles…');
    // ListRoles carries MaxSessionDuration (the bulk read does not); the bulk read carries the
    // attachments, tags and local policy documents that would otherwise take a GetRole per role.
    [allRoles, details] = await Promise.all([iam.listRoles(), readAccountDetails(iam, progress)]);
    summaries = allRoles.filter((r) => isWebIdentityRole(r.trustPolicy));
  }
  const detailOf = new Map(details?.roles.map((r) => [r.arn, r]));
  // A selection (--group/--config): only the roles that trust a selected project, from the same reads.
  const targets = options.targets;
  const trustedProjects = new Map<string, string[]>();
  if (targets) {
    for (const r of summaries) {
      const tags = detailOf.get(r.arn)?.tags;
      const trusted = projectsTrustedBy(
        { trustPolicy: r.trustPolicy, tags },
        targets.projects,
        targets.gitlabUrl,
      );
      if (trusted.length)
        trustedProjects.set(
          r.name,
          trusted.map((p) => p.project),
        );
    }
    summaries = summaries.filter((r) => trustedProjects.has(r.name));
  }
  const localPolicyDocuments = new Map(details?.policies.map((p) => [p.arn, p.document]));

  const trustingOf = (arn: string) =>
    allRoles.filter((r) => federatedProviderArns(r.trustPolicy).includes(arn));
  const gitlabByArn = new Map(providers.map((p) => [p.arn, isGitlabProvider(p, trustingOf(p.arn))]));
  const lintProviders: LintProvider[] = providers.map((p) => ({
    arn: p.arn,
    url: p.url,
    clientIds: p.clientIds,
    ...(gitlabByArn.get(p.arn) ? { gitlab: true } : {}),
  }));

  const policyDocument = memoizeAsync(async (arn: string) => {
    const local = localPolicyDocuments.get(arn);
    if (local) return local;
    try {
      return await iam.getPolicyDocument(arn);
    } catch (error) {
      // Ctrl-C/SIGTERM ends the run (exit 130): it is not a resource that could not be read.
      if (error instanceof AbortError) throw error;
      incomplete.push({ resource: arn, error: describeError(error) });
      return undefined;
    }
  });

  progress(`Auditing ${summaries.length} role${summaries.length === 1 ? '' : 's'}…`);
  const findings: Finding[] = [];
  const roles = await mapWithConcurrency(
    summaries,
    options.concurrency,
    async (summary): Promise<AuditedRole> => {
      let state: RoleState | undefined;
      const detail = detailOf.get(summary.arn);
      if (options.role) state = summary as RoleState;
      else if (detail) {
        state = roleStateOf(summary, detail);
      } else {
        // Not in the bulk read (it failed, or the role was created between the two reads).
        try {
          state = await iam.getRole(summary.name);
        } catch (error) {
          // Ctrl-C/SIGTERM ends the run (exit 130): it is not a resource that could not be read.
          if (error instanceof AbortError) throw error;
          incomplete.push({ resource: summary.arn, error: describeError(error) });
        }
      }
      const attachedPolicyArns = state?.attachedPolicyArns ?? [];
      const sources: PermissionSource[] = await Promise.all(
        attachedPolicyArns.map(async (arn) => ({ arn, document: await policyDocument(arn) })),
      );
      const target = { kind: 'role' as const, id: summary.name, arn: summary.arn };
      const own: Finding[] = [
        ...lintTrustPolicy(summary.trustPolicy, {
          providers: lintProviders,
          roleName: summary.name,
          attachedPolicies: state ? sources : undefined,
        }),
        ...lintPermissions(sources, attachedPolicyArns),
        ...lintMaxSessionDuration(summary.maxSessionDuration, summary.name),
      ].map((f) => ({ ...f, target }));
      findings.push(...own);
      return {
        name: summary.name,
        arn: summary.arn,
        providers: federatedProviderArns(summary.trustPolicy),
        maxSessionDuration: summary.maxSessionDuration,
        attachedPolicyArns,
        access: state ? classifyAccess(sources, attachedPolicyArns) : 'unknown',
        managedByTool: state ? isToolManaged(state.tags) : false,
        findings: own.length,
      };
    },
  );

  const scoped = Boolean(options.role || targets);
  const inScope = (arn: string) => !scoped || roles.some((r) => r.providers.includes(arn));
  if (!options.role) {
    findings.push(
      ...lintProviderUsage({ providers, roles: allRoles }).filter((f) => inScope(f.target?.arn ?? '')),
    );
  }

  // The protection findings, confirmed or cleared from GitLab's own rules when a token is there.
  const protection = await checkProtectionFindings({
    findings,
    roles: summaries,
    gitlabUrl: options.gitlabUrl,
    port: deps.gitlab?.(options.gitlabUrl),
  });
  if (protection.check?.checked) progress(`Checked the protected refs in ${options.gitlabUrl}`);
  for (const role of roles) {
    role.findings = protection.findings.filter(
      (f) => f.target?.kind === 'role' && f.target.id === role.name,
    ).length;
  }

  const audited: AuditedProvider[] = providers
    .filter((p) => inScope(p.arn))
    .map((p) => ({
      arn: p.arn,
      url: p.url,
      clientIds: p.clientIds,
      gitlab: gitlabByArn.get(p.arn) ?? false,
      managedByTool: isToolManaged(p.tags),
      trustedBy: roles
        .filter((r) => r.providers.includes(p.arn))
        .map((r) => r.name)
        .sort(),
    }))
    .sort((a, b) => Number(b.gitlab) - Number(a.gitlab) || a.url.localeCompare(b.url));
  const rank = (r: AuditedRole) => {
    const i = audited.findIndex((p) => r.providers.includes(p.arn));
    return i < 0 ? audited.length : i;
  };
  roles.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));

  let selection: AuditSelection | undefined;
  if (targets) {
    const ordered = sortFindings(protection.findings);
    selection = {
      kind: targets.kind,
      source: targets.source,
      ...(targets.gitlabUrl !== undefined ? { gitlabUrl: targets.gitlabUrl } : {}),
      projects: targets.projects.map(({ project }) => {
        const names = roles.filter((r) => trustedProjects.get(r.name)?.includes(project)).map((r) => r.name);
        const own = ordered.filter((f) => f.target?.kind === 'role' && names.includes(f.target.id));
        return { project, roles: names, findings: own.length, counts: countBySeverity(own) };
      }),
      untrusted: targets.projects
        .map((p) => p.project)
        .filter((project) => !roles.some((r) => trustedProjects.get(r.name)?.includes(project))),
      skipped: targets.skipped,
    };
  }

  return finishReport({
    scope: targets ? 'selection' : options.role ? 'role' : 'account',
    ...(selection ? { selection } : {}),
    account: identity.account,
    partition: identity.partition,
    failOn: options.failOn,
    providers: audited,
    roles,
    findings: sortFindings(protection.findings),
    incomplete,
    ...(protection.check ? { gitlab: protection.check } : {}),
  });
}
