import { CliError, ExitCode } from '../errors.js';
import { fleetDocument } from './format.js';
import type { FleetResult } from './run.js';

/**
 * A fleet run in which a member was refused or failed (exit 1), or that was interrupted (exit 130).
 * Carries the fleet so a --json failure still prints the whole fleet document, plus `error`.
 */
export class FleetFailedError extends CliError {
  readonly fleet: FleetResult;

  constructor(fleet: FleetResult) {
    const notDone = fleet.members.filter((m) => !['applied', 'no-changes', 'planned'].includes(m.status));
    const over = fleet.dryRun ? [] : (fleet.quotas?.refusals ?? []);
    super(
      over.length ? 'QUOTA_EXCEEDED' : fleet.exitCode === 130 ? 'FLEET_INTERRUPTED' : 'FLEET_FAILED',
      over.length
        ? `The plan exceeds ${over.length} IAM ${over.length === 1 ? 'quota' : 'quotas'}: ${over.map((r) => r.message).join('; ')}. Nothing was changed.`
        : `${notDone.length} of ${fleet.members.length} projects not done (listed above); the others are done.`,
      {
        exitCode: fleet.exitCode === 130 ? ExitCode.Aborted : ExitCode.Failure,
        hint: over.length
          ? over.map((r) => r.hint).join(' ')
          : 'Fix what each line says, then run the resume command it gives (a re-run converges: done projects show no changes).',
      },
    );
    this.fleet = fleet;
  }

  override resultDocument(): Record<string, unknown> {
    return fleetDocument(this.fleet);
  }
}
