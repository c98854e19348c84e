/**
 * `export` as a function: options (already validated) + dependencies → result. No argv, no exit.
 * The desired state comes from init's own path (buildSetupDesiredState, the same trust checks), so the
 * files describe exactly what `init` would apply. Order: everything checkable offline first (the
 * permission source, the pipeline file, the inputs with a stand-in account, the --out files), then
 * identity → what exists (unless --offline) → render → write or print → the pipeline (with --ci-file).
 */
import { checkManagedPolicies } from '../aws/check-policies.js';
import type { AwsPorts } from '../aws/ports.js';
import { parseIssuerUrl } from '../core/issuer.js';
import { alignRolePath } from '../core/plan.js';
import { checkOwnership } from '../core/plan-shared.js';
import type { CurrentState, DesiredState, Identity, Issuer } from '../core/types.js';
import type { ThumbprintResolution } from '../gitlab/thumbprint.js';
import { loadPermissionSource } from '../init/permissions.js';
import { planPipeline, preflightPipeline, summarizePipeline, writePipeline } from '../init/pipeline.js';
import type { InitResult } from '../init/result.js';
import {
  buildSetupDesiredState,
  checkSetupTrust,
  OFFLINE_ACCOUNT,
  offlineThumbprints,
  readIdentity,
} from '../init/run.js';
import type { Logger } from '../io/logger.js';
import { VERSION } from '../version.js';
import { withExportHeader } from './marker.js';
import type { ExportOptions } from './options.js';
import { rendererFor } from './renderers.js';
import type { ExistingResources, ExportFile, ExportFormat } from './types.js';
import { describeFile, type ExportedFile, planOutFiles, writeOutFiles } from './write.js';

export interface ExportDeps {
  logger: Logger;
  /** Builds the AWS ports (lazily); never called with --offline. */
  aws: () => Promise<AwsPorts>;
  resolveThumbprints: (issuer: Issuer, override: string[]) => Promise<ThumbprintResolution>;
}

export interface ExportResult {
  ok: true;
  command: 'export';
  format: ExportFormat;
  offline: boolean;
  identity: Pick<Identity, 'account' | 'partition'>;
  project: string;
  gitlabUrl: string;
  roleArn: string;
  providerArn: string;
  policyArn?: string | undefined;
  /** What exists already (imported, or read as a data source); all empty with --offline. */
  existing: Omit<ExistingResources, 'provider'>;
  /** The folder written (--out), or undefined when the files went to stdout. */
  out?: string | undefined;
  files: (ExportedFile & { content?: string | undefined })[];
  ciFile?: InitResult['ciFile'];
  warnings: string[];
}

/** What exists of this setup, read through the same ports and reads as init (and its ownership rules). */
async function readExisting(
  ports: AwsPorts,
  desired: DesiredState,
  options: ExportOptions,
  identity: Pick<Identity, 'account' | 'partition'>,
  logger: Logger,
): Promise<{ current: CurrentState; existing: ExistingResources }> {
  logger.step('start', 'Reading the OIDC provider, role and policy from IAM');
  const { readCurrentState, stateTargetsFor } = await import('../aws/read-state.js');
  const current = await readCurrentState(
    ports.iam,
    stateTargetsFor(desired, identity, options.setup.policyName),
  );
  logger.step('done', 'Read current IAM state');
  // Importing a role or policy the tool did not make takes it over, as init would: the same consent.
  const consent = { adoptExisting: options.setup.adoptExisting };
  if (current.role) checkOwnership('Role', current.role.name, current.role.tags, desired.role.tags, consent);
  if (current.policy && desired.policy)
    checkOwnership('Policy', current.policy.name, current.policy.tags, desired.policy.tags, consent);
  return {
    current,
    existing: {
      providerArn: current.provider?.arn,
      provider: current.provider,
      roleName: current.role?.name,
      policyArn: desired.policy ? current.policy?.arn : undefined,
      attachedPolicyArns: current.role?.attachedPolicyArns ?? [],
    },
  };
}

export async function runExport(options: ExportOptions, deps: ExportDeps): Promise<ExportResult> {
  const { setup } = options;
  const { logger } = deps;
  const issuer = parseIssuerUrl(setup.gitlabUrl);
  const render = await rendererFor(options.format);
  const permissionSource = await loadPermissionSource(setup);
  const pipelineOptions = setup.ciFile ? { ...setup, ciFile: setup.ciFile } : undefined;
  const standIn = { account: setup.accountId ?? OFFLINE_ACCOUNT, partition: setup.partition ?? 'aws' };
  if (pipelineOptions)
    await preflightPipeline(
      pipelineOptions,
      `arn:aws:iam::${OFFLINE_ACCOUNT}:role${setup.rolePath}${setup.roleName}`,
    );
  // Every input problem (unsafe refs, quotas, tags) and every --out conflict fails before AWS.
  const preview = buildSetupDesiredState(setup, permissionSource, standIn, setup.thumbprints).desired;
  checkSetupTrust(setup, preview, standIn, issuer);
  const context = (identity: Pick<Identity, 'account' | 'partition'>, existing: ExistingResources) => ({
    identity,
    project: setup.project,
    existing,
    toolVersion: VERSION,
    manageExistingProvider: options.manageProvider,
  });
  const finish = (files: ExportFile[]) =>
    files.map((f) => ({ ...f, content: withExportHeader(f.content, options.format, VERSION) }));
  if (options.out) {
    await planOutFiles(
      options.out,
      finish(render(preview, context(standIn, { attachedPolicyArns: [] }))),
      options.force,
    );
  }

  const { identity, ports } = await readIdentity(setup, deps);
  const thumbprints = setup.offline
    ? await offlineThumbprints(issuer, setup.thumbprints)
    : await deps.resolveThumbprints(issuer, setup.thumbprints);
  const built = buildSetupDesiredState(setup, permissionSource, identity, thumbprints.thumbprints);
  let desired = built.desired;
  checkSetupTrust(setup, desired, identity, issuer);
  const policyCheck = ports
    ? await checkManagedPolicies(ports.iam, setup.managedPolicies, identity.account)
    : { warnings: [] };
  let existing: ExistingResources = { attachedPolicyArns: [] };
  if (ports) {
    const read = await readExisting(ports, desired, options, identity, logger);
    existing = read.existing;
    // An existing role keeps its path (IAM cannot move it; Terraform would replace the role).
    desired = alignRolePath(desired, read.current, { rolePathGiven: setup.rolePathGiven }).desired;
  }
  const files = finish(render(desired, context(identity, existing)));

  let out: ExportResult['files'];
  if (options.out) {
    // Planned again: the real account's files, against the folder as it is now.
    out = await writeOutFiles(options.out, await planOutFiles(options.out, files, options.force));
  } else {
    out = files.map((f) => ({ ...describeFile(f), content: f.content }));
  }

  let ciFile: ExportResult['ciFile'];
  const warnings = [...built.warnings, ...policyCheck.warnings, ...thumbprints.warnings];
  if (pipelineOptions) {
    const plan = await planPipeline(pipelineOptions, desired.role.arn);
    ciFile = summarizePipeline(plan);
    warnings.push(...plan.warnings);
    if (plan.action !== 'no-op') {
      const written = await writePipeline(plan, setup.cwd, []);
      ciFile.written = written.changed;
      ciFile.backupPath = written.backupPath;
    }
  }
  const { provider: _state, ...existingSummary } = existing;
  return {
    ok: true,
    command: 'export',
    format: options.format,
    offline: setup.offline,
    identity: { account: identity.account, partition: identity.partition },
    project: setup.project,
    gitlabUrl: issuer.url,
    roleArn: desired.role.arn,
    providerArn: desired.provider.arn,
    policyArn: desired.policy?.arn,
    existing: existingSummary,
    out: options.out,
    files: out,
    ciFile,
    warnings,
  };
}
