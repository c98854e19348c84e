/**
 * How a fleet run is printed. A fleet of one prints exactly what a single `init` prints (its plan, its
 * result, its JSON document, its error); a larger fleet prints the summary (and each plan with --details).
 */
import { formatPlan, formatResult } from '../init/format.js';
import type { Palette } from '../io/colors.js';
import type { Output } from '../io/output.js';
import { FleetFailedError } from './errors.js';
import { fleetDocument, formatFleetPlan, formatFleetResult } from './format.js';
import type { FleetDeps, FleetResult } from './run.js';

/** The plan hooks for runFleet: each member's plan (one member, or --details), then the fleet summary. */
export function showFleet(
  members: number,
  details: boolean,
  output: Output,
  p: Palette,
): Pick<FleetDeps, 'showPlan' | 'showFleetPlan'> {
  return {
    showPlan: members === 1 || details ? (r) => output.lines([...formatPlan(r, p), '']) : undefined,
    showFleetPlan: members > 1 ? (f) => output.lines([...formatFleetPlan(f, p), '']) : undefined,
  };
}

/** The result on stdout; throws what makes the exit code (the member's own error for a fleet of one). */
export function reportFleet(fleet: FleetResult, output: Output, p: Palette): void {
  const [only] = fleet.members;
  if (fleet.members.length === 1 && only) {
    if (!only.result || only.error !== undefined) throw only.error;
    output.lines(formatResult(only.result, p));
    output.document(only.result);
    return;
  }
  output.lines(formatFleetResult(fleet, p));
  if (fleet.exitCode !== 0) throw new FleetFailedError(fleet);
  output.document(fleetDocument(fleet));
}
