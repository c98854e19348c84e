/**
 * Glue between commander and runAudit: parses flags, builds the AWS ports (not for --policy-file),
 * prints the table, JSON document or SARIF log, and fails the run when the --fail-on gate is met.
 * Loaded only when `audit` runs.
 */
import { lazyAwsPorts } from '../aws/lazy-ports.js';
import { findingsToSarif } from '../core/sarif.js';
import {
  type FleetSelectionDeps,
  parseFleetSelection,
  refuseWithFleet,
  resolveFleetTargets,
} from '../fleet/command-selection.js';
import { gitlabWithToken } from '../gitlab/api/with-token.js';
import { createCommandIo } from '../io/command-io.js';
import type { CommandContext } from '../io/context.js';
import { errorDocument } from '../io/output.js';
import { VERSION } from '../version.js';
import { AuditFailedError } from './errors.js';
import { formatAuditTable } from './format.js';
import { parseAuditFlags, type RawAuditFlags } from './options.js';
import { auditDocument, gateFailure } from './report.js';
import { runAudit } from './run.js';

export const INFORMATION_URI = 'https://www.npmjs.com/package/gitlab-aws-oidc';

export async function runAuditCommand(
  flags: RawAuditFlags,
  context: CommandContext,
  deps: FleetSelectionDeps = {},
): Promise<void> {
  const parsed = parseAuditFlags(flags);
  // The selection is read from GitLab (or the config file) before any AWS call; bad input is exit 2.
  const selection = parseFleetSelection(flags);
  if (selection) refuseWithFleet(selection, { '--role': flags.role, '--policy-file': flags.policyFile });
  const targets = selection ? await resolveFleetTargets(selection, flags, context, deps) : undefined;
  // The protection rules are read on the selection's instance (the config file may name it).
  const options = targets
    ? { ...parsed, targets, ...(targets.gitlabUrl !== undefined ? { gitlabUrl: targets.gitlabUrl } : {}) }
    : parsed;
  const { progress, stdoutPalette } = createCommandIo(context, { quiet: options.format !== 'table' });
  const report = await runAudit(options, {
    aws: lazyAwsPorts(options, context),
    progress,
    gitlab: gitlabWithToken(context, options),
  });
  const failure = gateFailure(report);
  if (options.format === 'sarif') {
    // The SARIF log is printed even when the gate fails: CI uploads it either way.
    const log = findingsToSarif(report.findings, {
      toolVersion: VERSION,
      informationUri: INFORMATION_URI,
      artifacts: report.artifacts,
    });
    context.stdout.write(`${JSON.stringify(log, null, 2)}\n`);
  } else if (options.format === 'json') {
    // Exactly one document. On failure it is the error document (the report plus `error`):
    // with --json the CLI prints it; with --format json we do.
    if (!failure) context.stdout.write(`${JSON.stringify(auditDocument(report), null, 2)}\n`);
    else if (!flags.json) {
      const error = new AuditFailedError(report, failure);
      context.stdout.write(`${JSON.stringify(errorDocument(error, 'audit'), null, 2)}\n`);
      throw error;
    }
  } else {
    context.stdout.write(`${formatAuditTable(report, stdoutPalette).join('\n')}\n`);
  }
  if (failure) throw new AuditFailedError(report, failure);
}
