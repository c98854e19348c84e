/**
 * When apply stops (interrupted or failed), the pipeline file has not been written yet: the report's
 * "not done" list says so, next to the IAM changes left.
 */
import { InterruptedError, PartialApplyError } from '../errors.js';

/** `error` with `pipelineStep` appended to its "not done" list (other errors pass through). */
export function withPipelineNotDone(error: unknown, pipelineStep: string | undefined): unknown {
  if (pipelineStep === undefined) return error;
  if (error instanceof InterruptedError) {
    return InterruptedError.after(error.done, [...error.notDone, pipelineStep], error.cause);
  }
  if (error instanceof PartialApplyError) {
    return new PartialApplyError(error.cause, error.done, [...error.notDone, pipelineStep]);
  }
  return error;
}
