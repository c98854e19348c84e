/**
 * A fleet member's GitLab port for the run: its reads kept from planning to re-planning. A member
 * re-planned against the shared OIDC provider another member created (run.ts, step 3) plans its GitLab
 * side again from the same answers, since nothing of its project changed in between: N - 1 members do
 * not read their protection rules, file, branch and merge requests twice. Any write forgets what was
 * read (what is applied next is planned from what GitLab says after it).
 */
import { promiseCache } from '../core/concurrency.js';
import type { GitlabPort } from '../gitlab/api/ports.js';

const READS = [
  'getProject',
  'getBranch',
  'listProtectedBranches',
  'listProtectedTags',
  'listProjectVariables',
  'listGroupVariables',
  'getFile',
  'listOpenMergeRequests',
] as const satisfies readonly (keyof GitlabPort)[];

const WRITES = [
  'setSubClaimComponents',
  'protectBranch',
  'protectTag',
  'createProjectVariable',
  'updateProjectVariable',
  'deleteProjectVariable',
  'deleteGroupVariable',
  'createCommit',
  'createMergeRequest',
  'updateMergeRequest',
] as const satisfies readonly (keyof GitlabPort)[];

type Method = (...args: unknown[]) => Promise<unknown>;

export function keepReads(port: GitlabPort): GitlabPort {
  // A failed read is not kept: the next plan asks again.
  const cache = promiseCache<unknown>({ forgetFailures: true });
  const kept = Object.create(port) as Record<string, Method>;
  const source = port as unknown as Record<string, Method>;
  for (const name of READS) {
    kept[name] = (...args) =>
      cache.get(`${name}\n${JSON.stringify(args)}`, () => source[name]!.apply(port, args));
  }
  for (const name of WRITES) {
    kept[name] = (...args) => {
      cache.clear();
      return source[name]!.apply(port, args);
    };
  }
  return kept as unknown as GitlabPort;
}
