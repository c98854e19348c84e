/**
 * `destroy` and the project CI/CD variables `init --ci-variables` set: which of them go with the roles
 * this run deletes, which are kept and why. Pure: the project's variables and what IAM says → a plan.
 *
 * The keys are the tool's (delivery/variables.ts): `AWS_OIDC_ROLE_ARN[_<ROLE>]` and
 * `AWS_OIDC_REGION[_<ROLE>]`, the same tail pairing the two of one hidden job. A variable goes only when
 * - the tool set it (its description opens with the "Managed by gitlab-aws-oidc" marker): any other
 *   variable is kept, "not set by gitlab-aws-oidc", whatever its value;
 * - for the role ARN: its value names a role this run deletes (or, under --project, a role of this
 *   account that no longer exists: a re-run after IAM went). A value that names another role (init
 *   pointed the key at it since) keeps it;
 * - for the region: its role ARN partner goes (or, left alone by an interrupted run, its description
 *   names a role this run deletes).
 * Region variables go before their role ARN variable: a run stopped between the two leaves the ARN,
 * which still tells whose they were.
 */
import { isToolVariable, REGION_KEY, ROLE_ARN_KEY } from '../delivery/variables.js';
import type { CiVariable } from '../gitlab/api/ports.js';
import { isSameRole, parseRoleArn } from '../render/ci-jobs.js';

export interface DestroyVariable {
  key: string;
  environmentScope: string;
  /** Undefined for a hidden variable (GitLab never returns its value). */
  value: string | undefined;
  action: 'delete' | 'keep';
  /** Why it goes (the role it names) or is kept. */
  reason: string;
}

export interface DeleteVariableStep {
  kind: 'deleteVariable';
  /** The GitLab project path. */
  project: string;
  key: string;
  environmentScope: string;
}

export interface VariableTargets {
  /** ARNs of the roles this run deletes. */
  roleArns: readonly string[];
  /** `--role <name>`: that role in `account`, whether IAM still has it or not. */
  roleName?: string | undefined;
  account: string;
  /** Roles of `account` named by a variable that IAM no longer has (--project only). */
  goneRoleArns?: readonly string[] | undefined;
  /** Role names of region variables left without their role ARN variable that IAM no longer has (--project only). */
  goneRoleNames?: readonly string[] | undefined;
}

const KEY = new RegExp(`^(${ROLE_ARN_KEY}|${REGION_KEY})((?:_[A-Z0-9_]+)?)$`);

/** `AWS_OIDC_ROLE_ARN_PROD` → `{ kind: 'roleArn', tail: '_PROD' }`; undefined for any other key. */
export function toolVariableKey(key: string): { kind: 'roleArn' | 'region'; tail: string } | undefined {
  const m = KEY.exec(key);
  if (!m) return undefined;
  return { kind: m[1] === ROLE_ARN_KEY ? 'roleArn' : 'region', tail: m[2] ?? '' };
}

/** The role a tool-written description names: `… (role gitlab-grp-app); …`. */
export function variableRoleName(variable: Pick<CiVariable, 'description'>): string | undefined {
  return /\(role ([\w+=,.@-]+)\)/.exec(variable.description ?? '')?.[1];
}

const pairKey = (v: Pick<CiVariable, 'key' | 'environmentScope'>) =>
  `${toolVariableKey(v.key)?.tail}\u0000${v.environmentScope}`;

/**
 * The roles the tool's variables name, for the caller to ask IAM which are gone: the ARNs (of this
 * account) of the role ARN variables, and the role names of region variables left without theirs.
 */
export function namedRoles(
  variables: readonly CiVariable[],
  account: string,
): { arns: string[]; orphanNames: string[] } {
  const arns = new Set<string>();
  const names = new Set<string>();
  const withArn = new Set(
    variables.filter((v) => toolVariableKey(v.key)?.kind === 'roleArn').map((v) => pairKey(v)),
  );
  for (const v of variables) {
    const kind = toolVariableKey(v.key)?.kind;
    if (kind === undefined || !isToolVariable(v)) continue;
    if (kind === 'roleArn' && v.value !== undefined && parseRoleArn(v.value)?.account === account)
      arns.add(v.value);
    const name = variableRoleName(v);
    if (kind === 'region' && !withArn.has(pairKey(v)) && name !== undefined) names.add(name);
  }
  return { arns: [...arns], orphanNames: [...names] };
}

/** Which of the project's variables go with the target roles; the steps in the order they run. */
export function planVariableCleanup(
  project: string,
  variables: readonly CiVariable[],
  targets: VariableTargets,
): { variables: DestroyVariable[]; steps: DeleteVariableStep[] } {
  const targetReason = (arn: string | undefined): string | undefined => {
    if (arn === undefined) return undefined;
    const role = parseRoleArn(arn);
    if (!role) return undefined;
    if (targets.roleArns.some((a) => a.toLowerCase() === arn.toLowerCase() || isSameRole(a, arn)))
      return `names role ${role.name}, deleted by this run`;
    if (
      targets.roleName !== undefined &&
      role.account === targets.account &&
      role.name.toLowerCase() === targets.roleName.toLowerCase()
    )
      return `names role ${role.name}, deleted by this run`;
    if (targets.goneRoleArns?.some((a) => isSameRole(a, arn)))
      return `names role ${role.name}, which no longer exists in account ${targets.account}`;
    return undefined;
  };
  const nameIsTarget = (name: string | undefined) =>
    name !== undefined &&
    [...targets.roleArns, ...(targets.goneRoleArns ?? [])]
      .map((a) => parseRoleArn(a)?.name.toLowerCase())
      .concat(targets.roleName?.toLowerCase(), ...(targets.goneRoleNames ?? []).map((n) => n.toLowerCase()))
      .includes(name.toLowerCase());

  const ours = variables.filter((v) => toolVariableKey(v.key) !== undefined);
  const arnByPair = new Map<string, CiVariable>();
  for (const v of ours) if (toolVariableKey(v.key)?.kind === 'roleArn') arnByPair.set(pairKey(v), v);

  /** The role ARN variable's verdict (undefined: not this run's business, not listed). */
  const arnVerdict = (v: CiVariable): DestroyVariable | undefined => {
    const base = { key: v.key, environmentScope: v.environmentScope, value: v.value };
    const why = targetReason(v.value);
    if (!isToolVariable(v)) {
      return why ? { ...base, action: 'keep', reason: 'not set by gitlab-aws-oidc' } : undefined;
    }
    if (v.value === undefined)
      return { ...base, action: 'keep', reason: 'hidden: its value cannot be read to tell whose it is' };
    if (why) return { ...base, action: 'delete', reason: why };
    const role = parseRoleArn(v.value);
    return {
      ...base,
      action: 'keep',
      reason: role
        ? `names role ${role.name}${role.account === targets.account ? '' : ` of account ${role.account}`}, which this run does not delete`
        : 'its value is not a role ARN',
    };
  };

  const listed: DestroyVariable[] = [];
  const verdicts = new Map<CiVariable, DestroyVariable | undefined>();
  for (const v of ours) if (toolVariableKey(v.key)?.kind === 'roleArn') verdicts.set(v, arnVerdict(v));
  for (const v of ours) {
    if (toolVariableKey(v.key)?.kind !== 'region') continue;
    const base = { key: v.key, environmentScope: v.environmentScope, value: v.value };
    const partner = arnByPair.get(pairKey(v));
    const partnerVerdict = partner ? verdicts.get(partner) : undefined;
    const partnerGoes = partnerVerdict?.action === 'delete';
    if (!isToolVariable(v)) {
      if (partnerGoes || (partner === undefined && nameIsTarget(variableRoleName(v))))
        verdicts.set(v, { ...base, action: 'keep', reason: 'not set by gitlab-aws-oidc' });
      continue;
    }
    if (partner) {
      if (partnerGoes) verdicts.set(v, { ...base, action: 'delete', reason: `goes with ${partner.key}` });
      else if (partnerVerdict)
        verdicts.set(v, { ...base, action: 'keep', reason: `goes with ${partner.key}, which is kept` });
      continue;
    }
    const name = variableRoleName(v);
    if (nameIsTarget(name)) {
      const gone = targets.goneRoleNames?.some((n) => n.toLowerCase() === name?.toLowerCase());
      verdicts.set(v, {
        ...base,
        action: 'delete',
        reason: `set for role ${name}, ${gone ? `which no longer exists in account ${targets.account}` : 'deleted by this run'} (its role ARN variable is gone)`,
      });
    }
  }
  for (const v of ours) {
    const verdict = verdicts.get(v);
    if (verdict) listed.push(verdict);
  }
  const step = (d: DestroyVariable): DeleteVariableStep => ({
    kind: 'deleteVariable',
    project,
    key: d.key,
    environmentScope: d.environmentScope,
  });
  const deleted = listed.filter((d) => d.action === 'delete');
  const steps = [
    ...deleted.filter((d) => toolVariableKey(d.key)?.kind === 'region').map(step),
    ...deleted.filter((d) => toolVariableKey(d.key)?.kind === 'roleArn').map(step),
  ];
  return { variables: listed, steps };
}

export function describeVariableStep(step: DeleteVariableStep): string {
  return `delete CI/CD variable ${step.key}${step.environmentScope === '*' ? '' : ` (environment ${step.environmentScope})`} of GitLab project ${step.project}`;
}
