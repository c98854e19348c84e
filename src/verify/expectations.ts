/** --expect-deny: the standard should-be-refused jobs for this project, against the live trust policy. */
import { type ClaimSet, parseSubject } from '../core/claims.js';
import { findMalformations } from '../core/policy-grammar.js';
import { runExpectDenyChecks } from './expect-deny.js';
import type { Explained } from './explain.js';
import type { ExpectDenySummary } from './result.js';

export function runExpectations(ex: Explained | undefined, claims: ClaimSet): ExpectDenySummary {
  if (!ex?.role) return { checked: false, reason: ex?.roleProblem ?? 'the trust policy could not be read' };
  const parsed = parseSubject(claims.sub);
  const projectPath =
    typeof claims.project_path === 'string' ? claims.project_path : parsed.components.project_path;
  const refType = claims.ref_type === 'tag' ? 'tag' : 'branch';
  const ref = typeof claims.ref === 'string' ? claims.ref : parsed.components.ref;
  if (!projectPath || !ref) {
    return { checked: false, reason: 'the claims name no project_path and ref to derive the probes from' };
  }
  if (findMalformations(ex.role.trustPolicy).length > 0) {
    return { checked: false, reason: 'IAM refuses this trust policy (MalformedPolicyDocument)' };
  }
  const aud = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud;
  const checks = runExpectDenyChecks(ex.role.trustPolicy, {
    issuer: { url: `https://${ex.hostPath}`, hostPath: ex.hostPath, isGitlabCom: ex.isGitlabCom },
    providerArn: ex.provider.arn,
    clientIds: ex.provider.clientIds,
    audience: aud,
    projectPath,
    refs: [{ type: refType, pattern: ref }],
    projectId: typeof claims.project_id === 'string' ? claims.project_id : undefined,
    namespaceId: typeof claims.namespace_id === 'string' ? claims.namespace_id : undefined,
    subComponents: parsed.format === 'unknown' ? undefined : parsed.order,
    protectedOnly:
      JSON.stringify(ex.role.trustPolicy).includes('ref_protected') && claims.ref_protected === 'true',
  });
  const results = checks.map((c) => ({
    id: c.id,
    label: c.label,
    sub: c.claims.sub,
    allowed: c.allowed,
    ...(c.unproven ? { unproven: true as const } : {}),
    decision: c.evaluation.decision,
    ...(c.evaluation.decisive ? { decisiveStatement: c.evaluation.decisive.index } : {}),
  }));
  return { checked: true, results, allowedCount: results.filter((r) => r.allowed).length };
}
