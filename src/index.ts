/**
 * Programmatic API: the same functions the CLI runs, without argv. Each `run…` takes validated options
 * and its dependencies (AWS ports, logger, prompts), so scripts and tests can drive it directly.
 */

export { runAudit } from './audit/run.js';
export { createAwsPorts } from './aws/factory.js';
export { REQUIRED_PERMISSIONS } from './aws/permissions.js';
export type { AwsPorts, IamPort, StsPort } from './aws/ports.js';
export { type LoadedConfig, loadFleetConfig } from './config/load.js';
export {
  CONFIG_FILE_NAME,
  type FleetConfig,
  fleetConfigJsonSchema,
  fleetConfigSchema,
  renderFleetConfigJsonSchema,
} from './config/schema.js';
export { evaluateTrustPolicy } from './core/evaluate.js';
export { lintTrustPolicy } from './core/lint.js';
export { buildDesiredState, buildPlan } from './core/plan.js';
export { checkRefProtection, type RefProtection, ruleCoversPattern } from './core/protected-refs.js';
export { findingsToSarif } from './core/sarif.js';
export { buildTrustPolicy } from './core/trust-policy.js';
export type * from './core/types.js';
export { runDestroy } from './destroy/run.js';
export { renderPermissionsSection, updateReadme } from './docs/permissions.js';
export * from './errors.js';
export { renderCloudFormation } from './export/cloudformation.js';
export { type ExportOptions, resolveExportOptions } from './export/options.js';
export { type ExportDeps, type ExportResult, runExport } from './export/run.js';
export { renderTerraform } from './export/terraform.js';
export type * from './export/types.js';
export type { FleetMember, MemberSource } from './fleet/members.js';
export { type ResolvedSelection, resolveSelection, type SkippedProject } from './fleet/selection.js';
export { addSelectionOptions, parseSelectionFlags, type Selection } from './fleet/selection-options.js';
export { applyGitlabSteps, describeGitlabStep } from './gitlab/api/apply.js';
export type { GitlabStep } from './gitlab/api/steps.js';
export { type InitOptions, initOptionsSchema } from './init/options.js';
export { resolveInitOptions } from './init/resolve.js';
export { type InitDeps, type InitResult, runInit } from './init/run.js';
export { type CiJobNames, type CiSnippetInput, jobNamesFor, renderCiSnippet } from './render/ci-file.js';
export { chooseJobNames } from './render/ci-jobs.js';
export { mergeCiFile } from './render/merge.js';
export type { VerifySource } from './render/verify-job.js';
export { runStatus } from './status/run.js';
export { runExpectDenyChecks } from './verify/expect-deny.js';
export { resolveVerifyOptions, type VerifyOptions, verifyOptionsSchema } from './verify/options.js';
export { runVerify } from './verify/run.js';
export { VERSION } from './version.js';
