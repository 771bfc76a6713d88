/** Re-exports of the vocabulary the exporter tests assert against, plus a success predicate. */
import {
  METRICS,
  RUN_OUTCOMES,
  SEVERITIES,
  SUCCESS_OUTCOMES,
  type RunOutcome,
} from '../../../src/shared/metrics.ts';

export { METRICS, RUN_OUTCOMES, SEVERITIES };
export function isSuccessOutcome(outcome: RunOutcome): boolean {
  return (SUCCESS_OUTCOMES as readonly RunOutcome[]).includes(outcome);
}
