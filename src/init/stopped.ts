/**
 * When apply stops (interrupted or failed), the pipeline file has not been written yet: the report's
 * "not done" list says so, next to the IAM changes left.
 */
import { InterruptedError, PartialApplyError } from '../errors.js';

/** `error` with `pipelineStep` appended to its "not done" list (other errors pass through). */
export function withPipelineNotDone(error: unknown, pipelineStep: string | undefined): unknown {
  return withStepsAround(error, { notDoneAfter: pipelineStep === undefined ? [] : [pipelineStep] });
}

/**
 * `error` with the steps of the other stages around it: what earlier stages did (`doneBefore`, e.g.
 * the IAM changes when a GitLab step failed) and what later ones did not (`notDoneAfter`: the GitLab
 * steps and the pipeline write when IAM failed). Other errors pass through.
 */
export function withStepsAround(
  error: unknown,
  around: { doneBefore?: readonly string[]; notDoneAfter?: readonly string[] },
): unknown {
  const before = around.doneBefore ?? [];
  const after = around.notDoneAfter ?? [];
  if (before.length === 0 && after.length === 0) return error;
  if (error instanceof InterruptedError) {
    return InterruptedError.after([...before, ...error.done], [...error.notDone, ...after], error.cause);
  }
  if (error instanceof PartialApplyError) {
    return new PartialApplyError(error.cause, [...before, ...error.done], [...error.notDone, ...after]);
  }
  return error;
}
