/**
 * GitLab's snake_case JSON → the port's camelCase types, one schema and one mapping per type. Only the
 * fields the tool reads are validated, so a newer GitLab adding fields is fine and a server that is
 * not GitLab fails with the field it lacks.
 */
import * as z from 'zod';
import type {
  CiVariable,
  CiVariableInput,
  CommitInput,
  GitlabBranch,
  GitlabGroup,
  GitlabProject,
  GitlabUser,
  GitlabVersion,
  MergeRequest,
  ProtectedRef,
  RepositoryFile,
} from './ports.js';

const id = z.number().int();
const optionalString = z.string().nullish();

export const projectSchema = z
  .object({
    id,
    path_with_namespace: z.string(),
    namespace: z.object({ id, full_path: z.string(), kind: z.enum(['group', 'user']) }),
    default_branch: optionalString,
    visibility: z.enum(['private', 'internal', 'public']).optional(),
    archived: z.boolean().optional(),
    web_url: z.string(),
    ci_id_token_sub_claim_components: z.array(z.string()).nullish(),
  })
  .transform(
    (p): GitlabProject => ({
      id: p.id,
      pathWithNamespace: p.path_with_namespace,
      namespace: { id: p.namespace.id, fullPath: p.namespace.full_path, kind: p.namespace.kind },
      defaultBranch: p.default_branch ?? undefined,
      // Only a public project is visible without a token, and only then may GitLab leave it out.
      visibility: p.visibility ?? 'public',
      archived: p.archived ?? false,
      webUrl: p.web_url,
      subClaimComponents: p.ci_id_token_sub_claim_components ?? undefined,
    }),
  );

export const groupSchema = z
  .object({ id, full_path: z.string(), parent_id: id.nullish(), web_url: z.string() })
  .transform(
    (g): GitlabGroup => ({
      id: g.id,
      fullPath: g.full_path,
      parentId: g.parent_id ?? undefined,
      webUrl: g.web_url,
    }),
  );

export const protectedRefSchema = z
  .object({ name: z.string() })
  .transform((r): ProtectedRef => ({ name: r.name }));

export const branchSchema = z
  .object({
    name: z.string(),
    commit: z.object({ id: z.string() }),
    protected: z.boolean(),
    default: z.boolean().optional(),
  })
  .transform(
    (b): GitlabBranch => ({
      name: b.name,
      commitSha: b.commit.id,
      protected: b.protected,
      default: b.default ?? false,
    }),
  );

export const variableSchema = z
  .object({
    key: z.string(),
    value: optionalString,
    variable_type: z.enum(['env_var', 'file']).optional(),
    protected: z.boolean(),
    masked: z.boolean(),
    hidden: z.boolean().optional(),
    raw: z.boolean().optional(),
    environment_scope: z.string().optional(),
    description: optionalString,
  })
  .transform(
    (v): CiVariable => ({
      key: v.key,
      value: v.value ?? undefined,
      variableType: v.variable_type ?? 'env_var',
      protected: v.protected,
      masked: v.masked,
      hidden: v.hidden ?? false,
      raw: v.raw ?? false,
      environmentScope: v.environment_scope ?? '*',
      description: v.description,
    }),
  );

/** POST/PUT body of a variable. */
export function variableBody(input: CiVariableInput): Record<string, unknown> {
  return {
    key: input.key,
    value: input.value,
    protected: input.protected,
    masked: input.masked,
    ...(input.variableType === undefined ? {} : { variable_type: input.variableType }),
    ...(input.raw === undefined ? {} : { raw: input.raw }),
    ...(input.environmentScope === undefined ? {} : { environment_scope: input.environmentScope }),
    ...(input.description === undefined ? {} : { description: input.description }),
  };
}

export const fileSchema = z
  .object({
    file_path: z.string(),
    ref: z.string(),
    content: z.string(),
    encoding: z.string().optional(),
    blob_id: z.string(),
    last_commit_id: z.string(),
  })
  .transform(
    (f): RepositoryFile => ({
      filePath: f.file_path,
      ref: f.ref,
      content: new Uint8Array(Buffer.from(f.content, f.encoding === 'text' ? 'utf8' : 'base64')),
      blobId: f.blob_id,
      lastCommitId: f.last_commit_id,
    }),
  );

export function commitBody(input: CommitInput): Record<string, unknown> {
  return {
    branch: input.branch,
    commit_message: input.commitMessage,
    ...(input.startBranch === undefined ? {} : { start_branch: input.startBranch }),
    ...(input.force === undefined ? {} : { force: input.force }),
    actions: input.actions.map((a) => ({
      action: a.action,
      file_path: a.filePath,
      ...(a.content === undefined ? {} : { content: a.content }),
      ...(a.encoding === undefined ? {} : { encoding: a.encoding }),
      ...(a.lastCommitId === undefined ? {} : { last_commit_id: a.lastCommitId }),
    })),
  };
}

export const commitSchema = z.object({ id: z.string() }).transform((c) => ({ id: c.id }));

export const mergeRequestSchema = z
  .object({
    iid: id,
    web_url: z.string(),
    title: z.string(),
    description: optionalString,
    source_branch: z.string(),
    target_branch: z.string(),
    state: z.enum(['opened', 'closed', 'locked', 'merged']),
  })
  .transform(
    (m): MergeRequest => ({
      iid: m.iid,
      webUrl: m.web_url,
      title: m.title,
      description: m.description ?? '',
      sourceBranch: m.source_branch,
      targetBranch: m.target_branch,
      state: m.state,
    }),
  );

export const versionSchema = z
  .object({ version: z.string(), revision: z.string().optional() })
  .transform((v): GitlabVersion => ({ version: v.version, revision: v.revision }));

export const userSchema = z
  .object({ id, username: z.string() })
  .transform((u): GitlabUser => ({ id: u.id, username: u.username }));
