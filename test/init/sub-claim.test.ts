import { describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../../src/errors.js';
import { planSubClaim, subClaimRefusal } from '../../src/init/sub-claim.js';
import { usageError } from '../helpers/usage-error.js';

const URL = 'https://git.example.com';
const project = (subClaimComponents: string[] | undefined) => ({
  id: 42,
  pathWithNamespace: 'grp/app',
  subClaimComponents,
});
const PATH_FORM = ['project_path', 'ref_type', 'ref'];
const ID_FORM = ['project_id', 'ref_type', 'ref'];

describe('planSubClaim', () => {
  it('project-id on a project in the default form: one PUT, its consent, in red words', () => {
    const plan = planSubClaim({
      form: 'project_id',
      given: true,
      gitlabUrl: URL,
      project: project(PATH_FORM),
    });
    expect(plan.step).toEqual({ kind: 'setSubClaim', project: 42, from: PATH_FORM, to: ID_FORM });
    expect(plan.consent).toMatchObject({
      consent: 'change-sub-claim',
      resource: 'grp/app',
      flag: '--sub-claim project-id',
    });
    expect(plan.consent?.message).toBe(
      'Project grp/app: changes the sub of every ID token of project grp/app (project_path,ref_type,ref → project_id,ref_type,ref): roles trusting project_path:grp/app:… stop matching, project_id:42:… is what they carry from now on',
    );
    expect(plan.warnings.join('\n')).toMatch(/changes before the trust policy does/);
  });

  it('going back to project-path plans the reverse PUT', () => {
    const plan = planSubClaim({
      form: 'project_path',
      given: true,
      gitlabUrl: URL,
      project: project(ID_FORM),
    });
    expect(plan.step).toMatchObject({ from: ID_FORM, to: PATH_FORM });
    expect(plan.consent?.flag).toBe('--sub-claim project-path');
    expect(plan.consent?.message).toMatch(/roles trusting project_id:42:… stop matching/);
  });

  it.each([
    ['project_id', ID_FORM, true],
    ['project_id', ID_FORM, false],
    ['project_path', PATH_FORM, true],
    ['project_path', PATH_FORM, false],
  ] as const)(
    '%s already set (given: %s): nothing to do (a re-run makes no GitLab call)',
    (form, components, given) => {
      expect(planSubClaim({ form, given, gitlabUrl: URL, project: project([...components]) })).toEqual({
        warnings: [],
      });
    },
  );

  it('a customised list is replaced, and says so', () => {
    const custom = ['project_path', 'ref_type', 'ref', 'ref_protected'];
    const plan = planSubClaim({ form: 'project_id', given: true, gitlabUrl: URL, project: project(custom) });
    expect(plan.step?.from).toEqual(custom);
    expect(plan.warnings.join('\n')).toMatch(/were customised \(project_path,ref_type,ref,ref_protected\)/);
  });

  it('a re-run that keeps project_id, with GitLab changed back by hand: the PUT needs consent again', () => {
    const plan = planSubClaim({
      form: 'project_id',
      given: false,
      gitlabUrl: URL,
      project: project(PATH_FORM),
    });
    expect(plan.step?.to).toEqual(ID_FORM);
    expect(plan.consent?.flag).toBe('--sub-claim project-id');
  });

  it('refuses (exit 2) an instance that does not report the setting (older than 17.10)', () => {
    const error = usageError(() =>
      planSubClaim({ form: 'project_id', given: true, gitlabUrl: URL, project: project(undefined) }),
    );
    expect(error.exitCode).toBe(ExitCode.Usage);
    expect(error.message).toMatch(/does not report ci_id_token_sub_claim_components for grp\/app/);
    expect(error.message).toMatch(/older than GitLab 17\.10/);
    expect(error.message).toMatch(/Nothing was changed/);
    expect(error.issues[0]?.field).toBe('--sub-claim');
    // The default form asks nothing of such an instance.
    expect(
      planSubClaim({ form: 'project_path', given: false, gitlabUrl: URL, project: project(undefined) }),
    ).toEqual({
      warnings: [],
    });
  });

  it('--sub-claim without a token is refused, naming the token variable; a kept form is not', () => {
    const error = usageError(() =>
      planSubClaim({ form: 'project_id', given: true, gitlabUrl: URL, project: 'no-token' }),
    );
    expect(error.issues[0]?.field).toBe('--sub-claim');
    expect(error.message).toMatch(/api scope, Maintainer/);
    expect(error.hint).toMatch(/GITLAB_TOKEN/);
    expect(planSubClaim({ form: 'project_id', given: false, gitlabUrl: URL, project: 'no-token' })).toEqual({
      warnings: [],
    });
  });

  it('--offline plans the trust only, with a warning', () => {
    const plan = planSubClaim({ form: 'project_id', given: true, gitlabUrl: URL, project: 'offline' });
    expect(plan.step).toBeUndefined();
    expect(plan.warnings[0]).toMatch(/--offline: GitLab was not read/);
  });
});

describe('subClaimRefusal', () => {
  const step = { kind: 'setSubClaim', project: 42, from: PATH_FORM, to: ID_FORM } as const;

  it("a 400 is exit 2 with GitLab's own message and nothing changed", () => {
    const gitlab = Object.assign(new Error('project_path must be the first element of the sub claim'), {
      status: 400,
    });
    const mapped = subClaimRefusal(gitlab, step, URL);
    expect(mapped).toBeInstanceOf(UsageError);
    const error = mapped as UsageError;
    expect(error.exitCode).toBe(ExitCode.Usage);
    expect(error.message).toBe(
      'GitLab at https://git.example.com refused to set the sub claim components of project 42 to project_id,ref_type,ref: project_path must be the first element of the sub claim. Nothing was changed.',
    );
    expect(error.hint).toMatch(/upgrade GitLab/);
  });

  it('any other failure is passed on as it is', () => {
    const forbidden = Object.assign(new Error('403 Forbidden'), { status: 403 });
    expect(subClaimRefusal(forbidden, step, URL)).toBe(forbidden);
    const plain = new Error('socket hang up');
    expect(subClaimRefusal(plain, step, URL)).toBe(plain);
  });
});

describe('planSubClaim without write access', () => {
  it('an anonymous lookup that shows the setting already right is enough; one that needs a PUT is refused', () => {
    const anon = { gitlabUrl: URL, authenticated: false } as const;
    expect(planSubClaim({ ...anon, form: 'project_id', given: true, project: project(ID_FORM) })).toEqual({
      warnings: [],
    });
    const error = usageError(() =>
      planSubClaim({ ...anon, form: 'project_id', given: true, project: project(PATH_FORM) }),
    );
    expect(error.message).toMatch(/needs a GitLab token \(api scope, Maintainer role/);
  });
});
