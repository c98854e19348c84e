/**
 * The rule table: stable IDs, default severities and the general explanation of every check the
 * linter makes. IDs never change meaning; a retired rule keeps its number unused.
 */

import type { Severity } from './severities.js';

export { SEVERITIES, type Severity } from './severities.js';

export type RuleId =
  | 'GAO001'
  | 'GAO002'
  | 'GAO003'
  | 'GAO004'
  | 'GAO005'
  | 'GAO006'
  | 'GAO007'
  | 'GAO008'
  | 'GAO009'
  | 'GAO010'
  | 'GAO011'
  | 'GAO012'
  | 'GAO013'
  | 'GAO014'
  | 'GAO015'
  | 'GAO016'
  | 'GAO017'
  | 'GAO018'
  | 'GAO019'
  | 'GAO020'
  | 'GAO021'
  | 'GAO022'
  | 'GAO023'
  | 'GAO024'
  | 'GAO025'
  | 'GAO026'
  | 'GAO027'
  | 'GAO028'
  | 'GAO029'
  | 'GAO030'
  | 'GAO031'
  | 'GAO032'
  | 'GAO033'
  | 'GAO040'
  | 'GAO041'
  | 'GAO042'
  | 'GAO043';

export interface RuleMeta {
  id: RuleId;
  /** kebab-case name, e.g. `principal-wildcard`. */
  name: string;
  /** Severity when nothing lowers or raises it (a finding may differ; see its `severity`). */
  severity: Severity;
  /** One line, shown in tables and as SARIF shortDescription. */
  title: string;
  /** Why this matters, in general (each finding carries its own specific `why`). */
  description: string;
  /** General remedy (each finding carries its own exact `fix`). */
  help: string;
  /** What the rule looks at. */
  scope: 'trust-policy' | 'permissions' | 'account';
  /** Set for rules about one issuer's sub grammar only (SARIF tags them with it). */
  issuer?: 'github-actions';
}

const rule = (
  id: RuleId,
  name: string,
  severity: Severity,
  scope: RuleMeta['scope'],
  title: string,
  description: string,
  help: string,
  issuer?: RuleMeta['issuer'],
): RuleMeta => ({ id, name, severity, scope, title, description, help, ...(issuer ? { issuer } : {}) });

export const RULES: Readonly<Record<RuleId, RuleMeta>> = {
  GAO001: rule(
    'GAO001',
    'principal-wildcard',
    'critical',
    'trust-policy',
    'Any principal can assume the role',
    'An Allow statement with Principal "*" (or NotPrincipal) lets any AWS principal or any web identity that satisfies the conditions assume the role.',
    'Name the OIDC provider: "Principal": {"Federated": "arn:<partition>:iam::<account>:oidc-provider/<host>"}.',
  ),
  GAO002: rule(
    'GAO002',
    'missing-sub',
    'critical',
    'trust-policy',
    'No sub condition: any pipeline of the issuer can assume the role',
    'Without a condition on `<host>:sub`, every token the issuer signs is accepted: on gitlab.com that is every job of every project of every user.',
    'Add "StringEquals": {"<host>:sub": "project_path:<group>/<project>:ref_type:branch:ref:<branch>"}.',
  ),
  GAO003: rule(
    'GAO003',
    'sub-any-project',
    'critical',
    'trust-policy',
    'sub matches any project',
    'A sub value such as `*`, `project_path:*` or `project_id:*` matches jobs of every project on the instance, including projects anyone can create.',
    'Replace the value with one literal project (and ref): project_path:<group>/<project>:ref_type:branch:ref:<branch>.',
  ),
  GAO004: rule(
    'GAO004',
    'namespace-wildcard',
    'critical',
    'trust-policy',
    'Wildcard inside the top-level group name',
    'A wildcard in the first path segment (`project_path:acme*/app`) matches groups other people can register, such as `acme-evil`.',
    'Spell the group name out literally; list several projects as separate values if needed.',
  ),
  GAO005: rule(
    'GAO005',
    'fails-open',
    'critical',
    'trust-policy',
    'Condition on a key the token never carries, with an operator that passes when it is missing (fails open)',
    'IAM evaluates …IfExists, ForAllValues:… and negated operators as true when the key is absent. A key for another host (or a claim this issuer never exposes) is always absent, so the condition restricts nothing.',
    "Use the provider's own host in the key (`<host>:sub`), a claim it exposes, and a plain operator (StringEquals).",
  ),
  GAO006: rule(
    'GAO006',
    'set-operator-on-identity',
    'high',
    'trust-policy',
    'ForAllValues/ForAnyValue/IfExists on sub or aud',
    'sub and aud are single-valued. ForAllValues and …IfExists pass when the claim is absent (fail open): high. ForAnyValue is false when it is absent (fails closed) and matches like the plain operator: low, but AWS advises against set operators on single-valued keys.',
    'Use the plain operator: StringEquals (or StringLike for patterns).',
  ),
  GAO007: rule(
    'GAO007',
    'negative-only-sub',
    'high',
    'trust-policy',
    'sub restricted only by negative operators',
    'StringNotEquals/StringNotLike on sub exclude a few subjects and allow every other project on the instance.',
    'Allow-list instead: StringEquals on `<host>:sub` with the projects and refs that may assume the role.',
  ),
  GAO008: rule(
    'GAO008',
    'group-wide',
    'high',
    'trust-policy',
    'sub matches many projects under a group',
    'A wildcard after the group (`project_path:grp/*`) matches every project in the group and all its subgroups (`*` also matches `/`), including projects created later by any member with that right.',
    'List each project explicitly, one sub value per project.',
  ),
  GAO009: rule(
    'GAO009',
    'any-ref',
    'high',
    'trust-policy',
    'Any branch or tag can assume the role',
    'When the ref (or ref_type) is not pinned, any developer who can push a branch or tag, including unreviewed feature branches, gets the role.',
    'Pin ref_type and ref: …:ref_type:branch:ref:main. On gitlab.com also pin gitlab.com:ref_protected = "true".',
  ),
  GAO010: rule(
    'GAO010',
    'ref-wildcard-unprotected',
    'high',
    'trust-policy',
    'Wildcard branch or tag pattern without ref_protected',
    'A pattern such as `ref:release-*` or tags `v*` matches refs any developer can create unless those refs are protected, and the policy does not check that they are.',
    'Protect the matching branches/tags in GitLab and pin protection: on gitlab.com add "gitlab.com:ref_protected": "true" (StringEquals); on self-managed, add ref_protected to the sub claim components and match `:ref_protected:true`.',
  ),
  GAO011: rule(
    'GAO011',
    'path-only-binding',
    'low',
    'trust-policy',
    'gitlab.com project bound by path only (no project_id)',
    'Hardening advice. Paths are reusable: if the group is deleted or renamed, anyone can register the path on gitlab.com and inherit the trust.',
    'Add "gitlab.com:project_id": "<id>" under StringEquals (or switch the sub claim to project_id first).',
  ),
  GAO012: rule(
    'GAO012',
    'unprotected-literal-ref',
    'low',
    'trust-policy',
    'Literal ref on gitlab.com without ref_protected',
    'Hardening advice: the policy does not check protection, and the linter cannot see whether the ref is protected. If it is not, any developer can push it (or create a tag of that name) and assume the role.',
    'Protect the ref in GitLab and add "gitlab.com:ref_protected": "true" under StringEquals.',
  ),
  GAO013: rule(
    'GAO013',
    'many-projects',
    'medium',
    'trust-policy',
    'Many projects share one role',
    'Every project listed gets all the role can do; a compromise of the weakest one is a compromise of all.',
    'Give each project its own role with only the permissions it needs.',
  ),
  GAO014: rule(
    'GAO014',
    'stringlike-no-wildcard',
    'low',
    'trust-policy',
    'StringLike with no wildcard',
    'StringLike on a literal behaves like StringEquals: harmless, but it suggests a pattern was intended or the operators were confused.',
    'Use StringEquals for literal values.',
  ),
  GAO015: rule(
    'GAO015',
    'no-aud-check',
    'low',
    'trust-policy',
    'No aud condition',
    'STS accepts any of the provider’s client IDs; without an aud condition, tokens minted for another audience registered on the same provider also work.',
    'Add "<host>:aud": "<audience>" under StringEquals (for GitHub Actions: "token.actions.githubusercontent.com:aud": "sts.amazonaws.com").',
  ),
  GAO016: rule(
    'GAO016',
    'github-owner-wildcard',
    'critical',
    'trust-policy',
    'GitHub sub with a wildcard in the repository owner',
    'A wildcard in the owner of a GitHub sub (`repo:octo*/app:…`, or `repo:octo-org*` where `*` also matches `/`) matches accounts and organisations anyone can register on GitHub, such as `octo-evil`.',
    'Spell the owner out: repo:<owner>/<repo>:ref:refs/heads/<branch>, one value per repository.',
    'github-actions',
  ),
  GAO017: rule(
    'GAO017',
    'github-owner-wide',
    'high',
    'trust-policy',
    'GitHub sub matches every repository of an owner',
    'A sub such as `repo:octo-org/*` (or a custom sub naming only repository_owner) matches every repository of the organisation, including repositories created later by anyone allowed to create one, and their pull-request workflows.',
    'List each repository explicitly: repo:<owner>/<repo>:ref:refs/heads/<branch>.',
    'github-actions',
  ),
  GAO018: rule(
    'GAO018',
    'github-any-ref',
    'high',
    'trust-policy',
    'GitHub sub matches any branch, tag, environment or pull request',
    'A sub such as `repo:o/r:*`, `repo:o/r:ref:refs/heads/*`, `repo:o/r:environment:*` or `repo:o/r:pull_request` lets every workflow run of the repository assume the role, including unreviewed branches and pull requests (medium on a read-only role).',
    'Pin the context: repo:<owner>/<repo>:ref:refs/heads/main, or a protected environment: repo:<owner>/<repo>:environment:<name>.',
    'github-actions',
  ),
  GAO019: rule(
    'GAO019',
    'github-ref-pattern',
    'medium',
    'trust-policy',
    'GitHub sub with a branch, tag or environment name pattern',
    'A pattern such as `ref:refs/tags/v*` or `environment:prod-*` matches refs or environments any contributor with push access can create; the token says nothing about protection, so only rulesets or environment protection rules keep others out.',
    'Pin the ref or environment, or protect every ref or environment the pattern matches (rulesets, required reviewers).',
    'github-actions',
  ),
  GAO020: rule(
    'GAO020',
    'wildcard-under-stringequals',
    'functional',
    'trust-policy',
    'Wildcard under StringEquals (matches only a literal "*")',
    'StringEquals compares literally: `*` and `?` are ordinary characters there, so the value never matches a real token.',
    'Use StringLike for patterns, or write the literal value.',
  ),
  GAO021: rule(
    'GAO021',
    'invalid-ref-type',
    'functional',
    'trust-policy',
    'ref_type other than branch or tag',
    'GitLab only ever sets ref_type to `branch` or `tag` (there is no `mr`; merge-request pipelines use the source branch), so this value never matches.',
    'Use ref_type:branch (merge-request pipelines run with the source branch as ref) or ref_type:tag.',
  ),
  GAO022: rule(
    'GAO022',
    'aud-not-client-id',
    'functional',
    'trust-policy',
    "aud value is not one of the provider's client IDs",
    "STS only accepts tokens whose aud is one of the provider's client IDs, so this aud value can never be seen.",
    "Use one of the provider's client IDs, or add the audience to the provider (AddClientIDToOpenIDConnectProvider).",
  ),
  GAO023: rule(
    'GAO023',
    'wrong-host',
    'functional',
    'trust-policy',
    "Condition key for a host other than the federated provider's",
    "Tokens of the federated provider only carry `<its host>:…` keys; a key for another host is absent, so the condition is false and the role can't be assumed.",
    "Use the provider's host (the part of its ARN after `oidc-provider/`) in the key.",
  ),
  GAO024: rule(
    'GAO024',
    'unsupported-claim',
    'functional',
    'trust-policy',
    'Condition on a claim IAM does not expose for this issuer',
    'For self-managed GitLab, IAM only exposes sub and aud (gitlab.com also exposes project_id, namespace_id, ref_protected, …). Other keys are absent, so the condition is false.',
    'Encode the value in sub instead (configure the sub claim components), or drop the condition.',
  ),
  GAO025: rule(
    'GAO025',
    'ref-full-name',
    'functional',
    'trust-policy',
    'ref given as refs/heads/… or refs/tags/…',
    'GitLab puts the bare name in `ref` (main, v1.2.0), never the full ref path, so this never matches.',
    'Use the bare branch or tag name.',
  ),
  GAO026: rule(
    'GAO026',
    'wrong-action',
    'functional',
    'trust-policy',
    'OIDC trust statement does not allow sts:AssumeRoleWithWebIdentity',
    'A federated OIDC principal assumes the role through AssumeRoleWithWebIdentity; a statement that only allows sts:AssumeRole never applies to it.',
    'Set "Action": "sts:AssumeRoleWithWebIdentity".',
  ),
  GAO027: rule(
    'GAO027',
    'malformed-sub',
    'functional',
    'trust-policy',
    "sub value can never match the issuer's tokens",
    "GitLab's sub is `project_path:<path>:ref_type:<branch|tag>:ref:<name>` (or starts with project_id: when customised); GitHub's is `repo:<owner>/<repo>:ref:refs/heads/<branch>` (or `:ref:refs/tags/…`, `:environment:<name>`, `:pull_request`). This value cannot match the issuer's shape.",
    "Write the sub in the issuer's format: project_path:<group>/<project>:ref_type:branch:ref:<branch> (GitLab), repo:<owner>/<repo>:ref:refs/heads/<branch> (GitHub).",
  ),
  GAO028: rule(
    'GAO028',
    'unknown-provider',
    'functional',
    'trust-policy',
    'Federated OIDC provider does not exist in the account',
    'The trust statement names an OIDC provider that is not registered, so no token is accepted.',
    'Create the provider (gitlab-aws-oidc init does) or fix the ARN.',
  ),
  GAO029: rule(
    'GAO029',
    'unknown-operator',
    'high',
    'trust-policy',
    'Unknown condition operator: IAM refuses this policy (MalformedPolicyDocument)',
    'IAM refuses to store a policy with an operator it does not know, and operator names are case sensitive (`stringnotequals` is unknown), in Allow and Deny statements alike. The change that carries it fails, so the policy it means to apply (a Deny meant to protect, a tightened condition) never is. High, like GAO043, so a `--fail-on high` gate on `audit --policy-file` stops it.',
    'Use a valid operator, spelt as documented: StringEquals, StringLike, StringNotEquals, …',
  ),
  GAO030: rule(
    'GAO030',
    'admin-access',
    'high',
    'permissions',
    'Administrator-level permissions on a CI role',
    'Any job that can assume the role can do anything in the account, including creating new trust for itself.',
    'Attach only the actions and resources the pipeline needs (see the starter templates).',
  ),
  GAO031: rule(
    'GAO031',
    'iam-write',
    'high',
    'permissions',
    'IAM write access that allows privilege escalation',
    'iam:* (or actions such as iam:AttachRolePolicy, iam:PutRolePolicy, iam:CreatePolicyVersion, iam:UpdateAssumeRolePolicy on any resource) lets the pipeline grant itself more.',
    'Remove IAM write actions, or scope them to specific resources with a permissions boundary.',
  ),
  GAO032: rule(
    'GAO032',
    'assume-any-role',
    'high',
    'permissions',
    'sts:AssumeRole on any role',
    'The pipeline can chain into every role in the account (and others) that trusts it.',
    'Scope Resource to the ARNs of the roles the pipeline must chain into.',
  ),
  GAO033: rule(
    'GAO033',
    'service-wildcard',
    'medium',
    'permissions',
    'Every action of a service on every resource',
    'A policy such as s3:* on * lets the pipeline read, change and delete everything of that service in the account.',
    'List the actions and resources needed (for example s3:PutObject on arn:aws:s3:::<bucket>/*).',
  ),
  GAO040: rule(
    'GAO040',
    'long-session',
    'low',
    'account',
    'MaxSessionDuration far above need',
    'Credentials leaked from a job stay valid until they expire; the SDKs refresh web-identity credentials, so CI rarely needs more than an hour.',
    'Lower MaxSessionDuration to 3600 (aws iam update-role --max-session-duration 3600).',
  ),
  GAO041: rule(
    'GAO041',
    'unused-provider',
    'low',
    'account',
    'OIDC provider that no role trusts',
    'An unused provider is clutter, and any role later created trusting it inherits whatever audiences it accepts.',
    'Delete it (aws iam delete-open-id-connect-provider) if nothing needs it.',
  ),
  GAO042: rule(
    'GAO042',
    'unchecked-audience',
    'low',
    'account',
    'Provider audience that no role checks',
    'STS accepts tokens for every client ID of the provider; roles that do not check aud accept tokens minted for audiences meant for something else.',
    'Remove the client ID from the provider if unused, or add aud conditions to the roles.',
  ),
  GAO043: rule(
    'GAO043',
    'malformed-policy',
    'high',
    'trust-policy',
    'IAM refuses this policy (MalformedPolicyDocument)',
    'IAM refuses to store this document as a trust policy: an Effect other than exactly "Allow" or "Deny" (case sensitive), a Version other than 2012-10-17 or 2008-10-17, no Action (or both Action and NotAction), no Principal (or both Principal and NotPrincipal), a principal type other than AWS, Federated, Service or CanonicalUser, a Resource element, or a condition value that is not a string, number, boolean or list of them. (Unknown operators are GAO029.) The change that carries it fails, so the policy it means to apply never is: high, so a `--fail-on high` gate on `audit --policy-file` stops it. Nothing of a refused policy applies, so the statement that carries it (every statement, for a Version or document defect) is not also reported as open to anyone; what it would allow once fixed is reported at medium at most.',
    'Fix the element the finding names (for example "Effect": "Allow", or remove "Resource").',
  ),
};

export const RULE_IDS = Object.keys(RULES) as RuleId[];
