/**
 * The GitLab side of `init --ci-variables` / `--merge-request`: reads what is there (read-only, also
 * under --dry-run) and plans the steps (`gitlab/api/steps.ts`) the shared runner applies after IAM.
 * A re-run with nothing new plans no step: zero mutating GitLab calls.
 */
import { parseIssuerUrl } from '../core/issuer.js';
import type { ConsentItem } from '../core/types.js';
import { UsageError } from '../errors.js';
import type { CiVariable, GitlabPort } from '../gitlab/api/ports.js';
import type { GitlabStep } from '../gitlab/api/steps.js';
import { verifyCommand } from '../init/next-steps.js';
import type { InitOptions } from '../init/options.js';
import { type PipelinePlan, planRemotePipeline } from '../init/pipeline.js';
import type { InitResult } from '../init/result.js';
import { type CiJobNames, jobNamesFor } from '../render/ci-file.js';
import { VERSION } from '../version.js';
import {
  type MergeRequestPlan,
  planMergeRequest,
  readRemotePipeline,
  remoteText,
  SETUP_BRANCH,
} from './merge-request.js';
import { mergeRequestTitle, renderMergeRequestDescription } from './mr-description.js';
import {
  ALL_ENVIRONMENTS,
  ciVariableKeys,
  desiredVariables,
  isToolVariable,
  planVariables,
  variableValues,
} from './variables.js';

const REGION = /^[a-z]{2,}(?:-[a-z]+)+-\d{1,2}$/;

/** What the GitLab lookup (helper machinery of `init`) found about the project and its refs. */
export interface DeliveryProject {
  id: number;
  pathWithNamespace: string;
  defaultBranch?: string | undefined;
  /** Every allowed ref is protected (checked against the project's protection rules). */
  refsProtected: boolean;
  /** The allowed refs that are not (`branch feature/*`), when known. */
  unprotectedRefs: string[];
}

/** What the role looks like once IAM is applied (the plan's desired state). */
export interface DeliveryRole {
  roleArn: string;
  providerArn: string;
  policyArn?: string | undefined;
  permissionSource?: string | undefined;
  managedPolicyArns: string[];
}

export interface DeliveryPlan {
  steps: GitlabStep[];
  consents: ConsentItem[];
  warnings: string[];
  /** Plain facts for the plan (protection, a reused MR, a branch reset). */
  notes: string[];
  /** `--merge-request`: the merge this run commits (its path is the repository's). */
  pipeline?: PipelinePlan | undefined;
  mergeRequest?:
    | {
        branch: string;
        targetBranch: string;
        /** The open MR reused; a created one is known after apply. */
        iid?: number | undefined;
        url?: string | undefined;
        title: string;
      }
    | undefined;
  ciVariables?: { roleArn: string; region: string; protected: boolean; protection: string } | undefined;
}

/**
 * Reads (variables with --ci-variables; the file, the branch and open MRs with --merge-request) and
 * plans. `local.jobNames`: without --merge-request, plans the local pipeline file once the project
 * variables are known (a hidden job may name its role through one) and says which jobs this role has.
 */
export async function planGitlabDelivery(
  options: InitOptions,
  port: GitlabPort,
  project: DeliveryProject,
  role: DeliveryRole,
  local?: { jobNames: (variables: Record<string, string> | undefined) => Promise<CiJobNames | undefined> },
): Promise<DeliveryPlan> {
  const plan: DeliveryPlan = { steps: [], consents: [], warnings: [], notes: [] };
  const current: CiVariable[] = options.ciVariables ? await port.listProjectVariables(project.id) : [];
  const values = options.ciVariables ? variableValues(current) : undefined;

  let jobNames: CiJobNames = jobNamesFor();
  let mr: MergeRequestPlan<PipelinePlan> | undefined;
  if (options.mergeRequest) {
    const target = project.defaultBranch;
    if (target === undefined) {
      throw UsageError.field(
        '--merge-request',
        `${project.pathWithNamespace} has no default branch (an empty repository): there is nothing to merge into`,
        'Push a first commit to the project, or run without --merge-request to write the file locally.',
      );
    }
    const path = options.ciRepoPath ?? '.gitlab-ci.yml';
    const state = await readRemotePipeline(port, project.id, path, target);
    const roleName = role.roleArn.slice(role.roleArn.lastIndexOf('/') + 1);
    let verifyRuns: string | undefined;
    // The probe and planMergeRequest merge the default branch's file alike: parsed and merged once.
    const merged = new Map<string, PipelinePlan>();
    const merge = (before: string | undefined, where: string) => {
      const key = JSON.stringify([before, where]);
      let p = merged.get(key);
      if (!p) {
        p = planRemotePipeline(options, role.roleArn, before, path, where, { variables: values });
        merged.set(key, p);
      }
      jobNames = p.jobNames;
      verifyRuns = p.verifyRuns;
      return p;
    };
    // Job names (and so variable keys) come from the merge; the description names both.
    const probe = merge(remoteText(state.base, `${path} on ${target}`), `${path} on ${target}`);
    const variables = options.ciVariables
      ? variablesPlan(options, project, role, probe.jobNames, current)
      : undefined;
    mr = planMergeRequest({
      project: project.id,
      path,
      state,
      merge,
      title: mergeRequestTitle(role.roleArn, options.project),
      description: renderMergeRequestDescription({
        toolVersion: VERSION,
        project: options.project,
        issuer: parseIssuerUrl(options.gitlabUrl).url,
        audience: options.audience,
        roleArn: role.roleArn,
        providerArn: role.providerArn,
        refs: options.refs,
        pins: {
          projectId: options.projectId,
          namespaceId: options.namespaceId,
          refProtected: options.protectedOnly,
        },
        permissions: {
          policyArn: role.policyArn,
          source: role.permissionSource,
          managedPolicyArns: role.managedPolicyArns,
        },
        ciPath: path,
        jobs: probe.jobNames,
        verifyRuns: verifyRuns ?? probe.verifyRuns,
        variables: variables
          ? { ...ciVariableKeys(probe.jobNames), protection: variables.protection }
          : undefined,
        verifyCommand: verifyCommand(role.roleArn, options),
        ...(options.replacesStaticKey
          ? {
              command: 'gitlab-aws-oidc migrate --apply --merge-request',
              replacesStaticKey: options.replacesStaticKey,
            }
          : {}),
      }),
      commitMessage: `ci: assume AWS role ${roleName} through GitLab OIDC (gitlab-aws-oidc ${options.replacesStaticKey ? 'migrate --apply' : 'init'})`,
    });
    plan.pipeline = mr.pipeline;
    plan.notes.push(...mr.notes);
    plan.warnings.push(...mr.pipeline.warnings);
    plan.mergeRequest = {
      branch: SETUP_BRANCH,
      targetBranch: target,
      iid: mr.existing?.iid,
      url: mr.existing?.webUrl,
      title: mergeRequestTitle(role.roleArn, options.project),
    };
    if (variables) addVariables(plan, variables, probe.jobNames);
    // Variables first: the commit's pipeline reads them as soon as it runs.
    plan.steps.push(...mr.steps);
    return plan;
  }
  if (options.ciVariables) {
    jobNames = (await local?.jobNames(values)) ?? jobNamesFor();
    addVariables(plan, variablesPlan(options, project, role, jobNames, current), jobNames);
  }
  return plan;
}

function variablesPlan(
  options: InitOptions,
  project: DeliveryProject,
  role: DeliveryRole,
  jobNames: CiJobNames,
  current: CiVariable[],
) {
  // Without --region, a re-run keeps the region the tool's variable holds (as a local run keeps the file's).
  const keys = ciVariableKeys(jobNames);
  const kept = options.regionGiven
    ? undefined
    : current.find(
        (v) =>
          v.key === keys.region &&
          v.environmentScope === ALL_ENVIRONMENTS &&
          isToolVariable(v) &&
          v.value !== undefined &&
          REGION.test(v.value),
      )?.value;
  const desired = desiredVariables({
    jobNames,
    roleArn: role.roleArn,
    region: kept ?? options.region,
    refsProtected: project.refsProtected,
  });
  const plan = planVariables(project.id, current, desired, {
    refs: options.refs.map((r) => `${r.type} ${r.pattern}`),
    unprotectedRefs: project.unprotectedRefs,
  });
  return { ...plan, kept };
}

function addVariables(plan: DeliveryPlan, variables: ReturnType<typeof variablesPlan>, jobNames: CiJobNames) {
  const keys = ciVariableKeys(jobNames);
  if (variables.kept)
    plan.notes.push(`Kept the region of the CI/CD variable ${keys.region}: ${variables.kept}.`);
  plan.steps.unshift(...variables.steps);
  plan.consents.push(...variables.consents);
  plan.warnings.push(...variables.warnings);
  plan.notes.unshift(`CI/CD variables ${keys.roleArn}, ${keys.region}: ${variables.protection}`);
  plan.ciVariables = {
    ...keys,
    protected: variables.protection.startsWith('protected'),
    protection: variables.protection,
  };
}

/** What the delivery reads, for progress lines. */
export function deliveryReads(options: Pick<InitOptions, 'mergeRequest' | 'ciVariables'>): string {
  return [
    options.ciVariables ? 'the CI/CD variables' : undefined,
    options.mergeRequest ? 'the pipeline file, the setup branch and its merge request' : undefined,
  ]
    .filter(Boolean)
    .join(' and ');
}

/** The flag of the delivery this run asks for (undefined: neither). */
export function deliveryFlag(options: Pick<InitOptions, 'mergeRequest' | 'ciVariables'>): string | undefined {
  return options.mergeRequest ? '--merge-request' : options.ciVariables ? '--ci-variables' : undefined;
}

/**
 * Before any AWS call: --merge-request / --ci-variables need the looked-up project and a token (an
 * anonymous lookup reads public projects only and can change nothing). A usage error naming the flag.
 */
export function requireDeliveryApi(
  options: Pick<InitOptions, 'mergeRequest' | 'ciVariables' | 'gitlabUrl' | 'project'>,
  port: Pick<GitlabPort, 'authenticated'> | undefined,
  projectFound: boolean,
): void {
  const flag = deliveryFlag(options);
  if (flag === undefined) return;
  const role = options.mergeRequest ? 'Developer' : 'Maintainer';
  const hint = `Set GITLAB_TOKEN (or name another variable with --gitlab-token-env NAME) to a token with the api scope and the ${role} role on ${options.project}${options.mergeRequest && options.ciVariables ? ' (Maintainer for --ci-variables)' : ''}.`;
  if (port && !port.authenticated) {
    throw UsageError.field(flag, `changes GitLab, which needs a GitLab token; none was found`, hint);
  }
  if (!port || !projectFound) {
    throw UsageError.field(
      flag,
      `needs the GitLab project, which was not looked up (no usable GitLab API for ${options.gitlabUrl}, or the token cannot see ${options.project})`,
      hint,
    );
  }
}

/** The project as the delivery planners need it, from the lookup and the ref check. */
export function deliveryProjectOf(
  facts: { id: number; path: string; defaultBranch?: string | undefined },
  refs:
    | readonly {
        ref: { type: string; pattern: string };
        protectedBy?: string | undefined;
        willProtect?: string | undefined;
      }[]
    | undefined,
): DeliveryProject {
  const open = (refs ?? []).filter((r) => !r.protectedBy && !r.willProtect);
  return {
    id: facts.id,
    pathWithNamespace: facts.path,
    defaultBranch: facts.defaultBranch,
    // Unknown (rules not read) counts as not protected: a protected variable would vanish.
    refsProtected: refs !== undefined && refs.length > 0 && open.length === 0,
    unprotectedRefs: open.map((r) => `${r.ref.type} ${r.ref.pattern}`),
  };
}

/** The result's `mergeRequest` and `ciVariables`, from the plan. */
export function deliveryResult(plan: DeliveryPlan): {
  mergeRequest?: InitResult['mergeRequest'];
  ciVariables?: InitResult['ciVariables'];
} {
  const mr = plan.mergeRequest;
  const kinds = new Set(plan.steps.map((s) => s.kind));
  return {
    ciVariables: plan.ciVariables,
    mergeRequest: mr
      ? {
          ...mr,
          action: kinds.has('createMergeRequest')
            ? 'create'
            : kinds.has('updateMergeRequest')
              ? 'update'
              : 'none',
          commit: kinds.has('commit'),
        }
      : undefined,
  };
}
