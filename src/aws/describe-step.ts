/** One human line per plan step, used in progress events and in PartialApplyError lists. */
import type { PlanStep, Tags } from '../core/types.js';

function formatTags(tags: Tags): string {
  return Object.entries(tags)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
}

export function describeStep(step: PlanStep): string {
  switch (step.kind) {
    case 'createProvider':
      return `create OIDC provider ${step.url}`;
    case 'addClientId':
      return `add audience ${step.clientId} to OIDC provider ${step.providerArn}`;
    case 'updateThumbprints':
      return step.thumbprints.length
        ? `set thumbprints of OIDC provider ${step.providerArn} to ${step.thumbprints.join(', ')}`
        : `remove thumbprints of OIDC provider ${step.providerArn}`;
    case 'tagProvider':
      return `tag OIDC provider ${step.providerArn} (${formatTags(step.tags)})`;
    case 'createPolicy':
      return `create policy ${step.path}${step.name}`;
    case 'createPolicyVersion':
      return step.pruneVersionId
        ? `update policy ${step.policyArn} (new default version; delete old version ${step.pruneVersionId} first)`
        : `update policy ${step.policyArn} (new default version)`;
    case 'createRole':
      return `create role ${step.path}${step.name}`;
    case 'updateTrustPolicy':
      return `update trust policy of role ${step.roleName}`;
    case 'updateRole':
      return `update role ${step.roleName} (max session ${step.maxSessionDuration} s, description)`;
    case 'putPermissionsBoundary':
      return `set permissions boundary of role ${step.roleName} to ${step.boundaryArn}`;
    case 'deletePermissionsBoundary':
      return `remove permissions boundary of role ${step.roleName}`;
    case 'attachPolicy':
      return `attach ${step.policyArn} to role ${step.roleName}`;
    case 'detachPolicy':
      return `detach ${step.policyArn} from role ${step.roleName}`;
    case 'tagRole':
      return `tag role ${step.roleName} (${formatTags(step.tags)})`;
    case 'tagPolicy':
      return `tag policy ${step.policyArn} (${formatTags(step.tags)})`;
    case 'deletePolicyVersion':
      return `delete version ${step.versionId} of policy ${step.policyArn}`;
    case 'deletePolicy':
      return `delete policy ${step.policyArn}`;
    case 'untagRole':
      return `untag role ${step.roleName} (${step.tagKeys.join(', ')})`;
  }
}
