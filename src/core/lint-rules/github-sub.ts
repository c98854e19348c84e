/**
 * GitHub Actions `sub` values (issuer `token.actions.githubusercontent.com`), taken apart and judged
 * one value at a time, the way subject.ts does for GitLab. Pure; no I/O.
 *
 * GitHub's default sub is `repo:<owner>/<repo>:<context>`, the context being one of
 * `ref:refs/heads/<branch>`, `ref:refs/tags/<tag>`, `environment:<name>` or `pull_request`
 * (docs.github.com, "OpenID Connect reference"). Repositories may use the immutable form
 * `repo:<owner>@<owner-id>/<repo>@<repo-id>:…`, and organisations may customise the sub with
 * `include_claim_keys` (`repo`, `context`, `job_workflow_ref`, `repository_owner`, `repository_id`, …),
 * each rendered as `<claim>:<value>`; `:` inside a value is escaped as `%3A`.
 */
import { hasWildcard, isAllWildcard } from '../iam-conditions.js';
import type { RuleId, Severity } from './rules.js';
import {
  type AccessLevel,
  type ParsedSub,
  parseSub,
  type SubAnalysis,
  type SubGrammar,
  type SubIssue,
  type SubPart,
} from './subject.js';

/** Hosts (IAM provider URL without scheme) of GitHub Actions' OIDC issuers. */
export function isGithubActionsHost(host: string): boolean {
  return (
    host === 'token.actions.githubusercontent.com' ||
    host.startsWith('token.actions.githubusercontent.com/') || // enterprise-specific issuer
    /^token\.actions\.[a-z0-9-]+\.ghe\.com(\/|$)/.test(host) || // GHE.com data residency
    host.endsWith('/_services/token') // GitHub Enterprise Server
  );
}

/** Claims GitHub can put in a customised sub (`include_claim_keys`), plus the context keys. */
const GITHUB_SUB_KEYS = new Set([
  'repo',
  'environment',
  'ref',
  'pull_request',
  'actor',
  'actor_id',
  'base_ref',
  'enterprise',
  'enterprise_id',
  'event_name',
  'head_ref',
  'job_workflow_ref',
  'job_workflow_sha',
  'ref_type',
  'repository_id',
  'repository_owner',
  'repository_owner_id',
  'repository_visibility',
  'runner_environment',
  'workflow',
  'workflow_ref',
  'workflow_sha',
]);

/** The suggested GitHub sub for a repository and branch. */
export const GITHUB_SUB_EXAMPLE = 'repo:<owner>/<repo>:ref:refs/heads/<branch>';

export interface GithubSubFlags {
  host: string;
  access: AccessLevel;
}

/**
 * GitHub's grammar: `pull_request` stands alone, and only a `*` that ends the last value is taken to
 * swallow the rest (as before this parser was shared with GitLab's).
 */
const GITHUB_GRAMMAR: SubGrammar = {
  valueless: new Set(['pull_request']),
  openTailIf: (v) => v.endsWith('*'),
};

function parseGithubSub(value: string, pattern: boolean): ParsedSub {
  return parseSub(value, pattern, GITHUB_GRAMMAR);
}

function anyRefSeverity(flags: GithubSubFlags): Severity {
  return flags.access === 'read-only' ? 'medium' : 'high';
}

const literal = (v: string | undefined) => (v !== undefined && v !== '' && !hasWildcard(v) ? v : undefined);

/** `repo:<owner>/<repo>:ref:refs/heads/<branch>`, keeping the literal parts of what was written. */
function githubSuggestion(
  components: SubPart[],
  overrides: { repo?: string; context?: string } = {},
): string {
  const get = (k: string) => components.find((c) => c.key === k)?.value;
  const written = get('repo');
  const repoValue = literal(written);
  // Keep a literal owner from a pattern such as `octo-org/*`.
  const owner = literal(written?.includes('/') ? written.slice(0, written.indexOf('/')) : undefined);
  const repo =
    overrides.repo ?? (repoValue?.includes('/') ? repoValue : owner ? `${owner}/<repo>` : '<owner>/<repo>');
  const env = literal(get('environment'));
  const ref = literal(get('ref'));
  const context =
    overrides.context ??
    (env !== undefined
      ? `environment:${env}`
      : ref !== undefined && /^refs\/(heads|tags)\/./.test(ref)
        ? `ref:${ref}`
        : ref !== undefined && !ref.startsWith('refs/')
          ? `ref:refs/heads/${ref}`
          : 'ref:refs/heads/<branch>');
  return `repo:${repo}:${context}`;
}

export function analyzeGithubSub(value: string, pattern: boolean, flags: GithubSubFlags): SubAnalysis {
  const issues: SubIssue[] = [];
  const facts = {
    projects: [] as string[],
    usesPath: false,
    literalRefs: [],
    protectedInSub: false,
    dead: false,
  };
  const parsed = parseGithubSub(value, pattern);
  const { components } = parsed;
  const push = (
    ruleId: RuleId,
    severity: Severity,
    dimension: SubIssue['dimension'],
    why: string,
    fix: string,
    replacement?: string,
  ) =>
    issues.push({
      ruleId,
      severity,
      dimension,
      why,
      fix,
      ...(replacement !== undefined ? { replacement } : {}),
    });
  const dead = (why: string, replacement: string): SubAnalysis => {
    push('GAO027', 'functional', 'other', why, `Write it as "${replacement}".`, replacement);
    facts.dead = true;
    return { issues, facts };
  };

  if (parsed.headWildcard) {
    const replacement = githubSuggestion([]);
    push(
      'GAO003',
      'critical',
      'project',
      `"${value}" starts with a wildcard, so it matches workflows of every repository on GitHub, including repositories anyone can create.`,
      `Replace it with a literal subject such as "${replacement}" under StringEquals.`,
      replacement,
    );
    return { issues, facts };
  }
  for (const c of components) {
    if (!GITHUB_SUB_KEYS.has(c.key)) {
      const refLike = c.key.startsWith('refs/');
      return dead(
        `"${value}" has "${c.key}" where GitHub's sub has a claim name${refLike ? ' (a ref is written "ref:refs/heads/<branch>")' : ''}, so it never matches a GitHub token.`,
        githubSuggestion(components, refLike ? { context: `ref:${c.key}` } : {}),
      );
    }
  }
  if (parsed.malformed) {
    return dead(
      `"${value}" is not in GitHub's sub format (${parsed.malformed}).`,
      githubSuggestion(components),
    );
  }
  const get = (k: string) => components.find((c) => c.key === k);

  // ---- repository (the project dimension) ----
  const repo = get('repo');
  const owner = get('repository_owner') ?? get('repository_owner_id');
  const repoId = get('repository_id');
  const workflow = get('job_workflow_ref');
  if (repo) {
    const r = repo.value;
    const slash = r.indexOf('/');
    const ownerPart = slash >= 0 ? r.slice(0, slash) : r;
    const ownerName = ownerPart.split('@')[0] ?? '';
    if (pattern && hasWildcard(r)) {
      if (isAllWildcard(r) || r.startsWith('*') || r.startsWith('?')) {
        const replacement = githubSuggestion(components, { repo: '<owner>/<repo>' });
        push(
          'GAO003',
          'critical',
          'project',
          `repo "${r}" matches every repository on GitHub, so any user's workflow can assume the role.`,
          `Replace "${value}" with "${replacement}" (one value per repository) under StringEquals.`,
          replacement,
        );
      } else if (hasWildcard(ownerName) || slash < 0) {
        const replacement = githubSuggestion(components, { repo: '<owner>/<repo>' });
        push(
          'GAO016',
          'critical',
          'project',
          `The owner in "${r}" has a wildcard${slash < 0 ? ' (and `*` also matches "/")' : ''}: it also matches accounts such as "${ownerName.replace(/[*?]+/g, '-evil')}" that anyone can register on GitHub.`,
          `Spell the owner out: replace "${value}" with "${replacement}" (one value per repository).`,
          replacement,
        );
      } else if (hasWildcard(r.slice(slash + 1).split('@')[0] ?? '')) {
        // A wildcard only in an `@<id>` part matches the same names with any ID: the legacy binding.
        const replacement = githubSuggestion(components, { repo: `${ownerName}/<repo>` });
        push(
          'GAO017',
          'high',
          'project',
          `repo "${r}" matches every repository of ${ownerName} that fits the pattern, including repositories created later by anyone allowed to create one there.`,
          `List the repositories explicitly: "${replacement}", one value per repository.`,
          replacement,
        );
      }
    } else if (!r.includes('/') || r.startsWith('/') || r.endsWith('/')) {
      return dead(
        `repo "${r}" is not "<owner>/<repo>"; GitHub's sub always names the owner and the repository.`,
        githubSuggestion(components, { repo: `<owner>/${r.replace(/\//g, '') || '<repo>'}` }),
      );
    } else {
      facts.projects.push(`path:${r}`);
    }
  } else if (repoId && literal(repoId.value)) {
    facts.projects.push(`id:${repoId.value}`);
  } else if (owner && literal(owner.value)) {
    push(
      'GAO017',
      'high',
      'project',
      `"${value}" names the owner (${owner.key} ${owner.value}) but no repository: every repository of that owner, including ones created later, can assume the role.`,
      `Name the repository: "${githubSuggestion([])}" (or add repo to the subject template).`,
      githubSuggestion([]),
    );
  } else if (!parsed.openTail || components.length > 0) {
    const onlyWorkflow = workflow !== undefined && literal(workflow.value) !== undefined;
    push(
      'GAO003',
      onlyWorkflow ? 'high' : 'critical',
      'project',
      `"${value}" names no repository or owner. Any GitHub organisation can give its own repositories a subject template that produces this sub${onlyWorkflow ? ' and call the reusable workflow it names' : ''}, so their workflows can assume the role.`,
      `Bind the repository: "${githubSuggestion([])}", or put repo (or repository_owner_id) in the subject template and the condition.`,
      githubSuggestion([]),
    );
  }

  // ---- context (the ref dimension) ----
  const ref = get('ref');
  const env = get('environment');
  const pr = get('pull_request');
  const pinAt = githubSuggestion(components, {
    context: literal(env?.value)
      ? `environment:${env?.value}`
      : env
        ? 'environment:<environment>'
        : ref?.value.startsWith('refs/tags')
          ? 'ref:refs/tags/<tag>'
          : 'ref:refs/heads/main',
  });
  const anyRef = (why: string) =>
    push('GAO018', anyRefSeverity(flags), 'ref', why, `Pin the context: "${pinAt}".`, pinAt);
  if (parsed.openTail && !ref && !env && !pr) {
    anyRef(
      `"${value}" ends in a wildcard that swallows the context, so every branch, tag, environment and pull request of ${repo && pattern && hasWildcard(repo.value) ? 'every matching repository' : 'the repository'} can assume the role${flags.access === 'read-only' ? '' : ' and use its permissions'}.`,
    );
  } else if (ref) {
    const v = ref.value;
    if (pattern && hasWildcard(v)) {
      const prefix = v.replace(/[*?].*$/, '');
      if (isAllWildcard(v) || /^(refs\/?(heads\/|tags\/)?)?$/.test(prefix)) {
        anyRef(
          `ref "${v}" matches every ${prefix.startsWith('refs/tags') ? 'tag' : prefix.startsWith('refs/heads') ? 'branch' : 'branch and tag'}, so anyone who can push one (any unreviewed feature branch too) can assume the role.`,
        );
      } else {
        push(
          'GAO019',
          flags.access === 'read-only' ? 'low' : 'medium',
          'ref',
          `ref pattern "${v}" matches any ref created with that prefix (\`*\` also matches "/"); nothing in the token says the ref is protected, so only GitHub rulesets on those refs keep other contributors out.`,
          `Pin the ref ("${pinAt}"), or restrict who may create refs matching "${v}" with a ruleset.`,
          pinAt,
        );
      }
    } else if (!/^refs\/(heads|tags|pull)\/./.test(v)) {
      const replacement = githubSuggestion(components, {
        context: v.startsWith('refs/') ? 'ref:refs/heads/<branch>' : `ref:refs/heads/${v}`,
      });
      return dead(
        `ref "${v}" is not a full ref: GitHub's sub carries "ref:refs/heads/<branch>" or "ref:refs/tags/<tag>", so this never matches.`,
        replacement,
      );
    }
  } else if (env) {
    const v = env.value;
    if (pattern && hasWildcard(v)) {
      if (isAllWildcard(v)) {
        anyRef(
          `environment "${v}" matches every environment of the repository, including ones anyone with write access can create.`,
        );
      } else {
        push(
          'GAO019',
          flags.access === 'read-only' ? 'low' : 'medium',
          'ref',
          `environment pattern "${v}" matches any environment created with that name prefix; only environments with protection rules keep other contributors out.`,
          `Name the environment ("${pinAt}") and protect it with required reviewers or deployment branch rules.`,
          pinAt,
        );
      }
    }
  } else if (pr) {
    anyRef(
      `"${value}" matches every pull_request workflow of the repository: any contributor who can push a branch and open a pull request runs it with the role, before review.`,
    );
  } else if (!parsed.openTail && (repo || repoId) && !(workflow && literal(workflow.value))) {
    push(
      'GAO018',
      'medium',
      'ref',
      `"${value}" names no ref, environment or pull request: it never matches GitHub's default sub, and if the subject template leaves the context out, it matches every branch, tag and environment.`,
      `Pin the context: "${pinAt}".`,
      pinAt,
    );
  }
  return { issues, facts };
}
