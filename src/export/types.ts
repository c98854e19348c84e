/**
 * `export`: the exact desired state `init` would apply, handed to an IaC engine instead of IAM.
 * Renderers are pure: (desired state, context) → files. The command (`export/run.ts`) builds the
 * desired state with the same code path as `init` (options → buildDesiredState), reads what already
 * exists (unless --offline) for Terraform `import` blocks / the CloudFormation provider condition,
 * and writes the files atomically (`--out DIR`) or prints them.
 */
import type { DesiredState, Identity, OidcProviderState } from '../core/types.js';

export type ExportFormat = 'terraform' | 'cloudformation';

/** What exists in the account already (from IAM reads; all false with --offline). */
export interface ExistingResources {
  /** ARN of an existing OIDC provider for the issuer URL (one per URL per account). */
  providerArn?: string | undefined;
  /** The role exists (its name), so Terraform imports it. */
  roleName?: string | undefined;
  /** The tool-managed policy exists (its ARN). */
  policyArn?: string | undefined;
  /** Managed policy ARNs already attached to the role (imports for the attachments). */
  attachedPolicyArns: string[];
  /** The existing provider as read (client IDs, thumbprints, tags), when `providerArn` is set. */
  provider?: OidcProviderState | undefined;
}

export interface ExportContext {
  identity: Pick<Identity, 'account' | 'partition'>;
  /** The GitLab project path (comments, resource names). */
  project: string;
  existing: ExistingResources;
  /** Tool version, written in a header comment. */
  toolVersion: string;
  /**
   * Terraform: bring an existing provider under this configuration (an `import` block) instead of
   * reading it with a data source. The provider is shared by every role of the instance in the account.
   */
  manageExistingProvider?: boolean | undefined;
}

/** One file of an export: a relative path under --out, and its full text. */
export interface ExportFile {
  path: string;
  content: string;
}

export type ExportRenderer = (desired: DesiredState, context: ExportContext) => ExportFile[];
