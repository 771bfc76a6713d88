/**
 * The exception-scope families (risk acceptance, issue 13): one group per exception of the
 * inventory, keyed by `FleetException.key`, recomputed when the inventory changes, when an
 * image's matches change and on every tick (in force is a matter of the clock). One series per
 * exception and family: bounded by the reviewed list, never by containers.
 */
import type { FleetException } from '../../../src/shared/exceptions.ts';
import { METRICS } from '../../../src/shared/metrics.ts';
import { expirySeconds, scopeLabel } from '../exceptions.ts';
import { formatLabels, type SeriesStore } from '../series.ts';

export interface ExceptionInput {
  readonly exception: FleetException;
  /** Inventoried images on which a running container within the scope carries the vulnerability. */
  readonly coveredImages: number;
  /** Decided with the collector's clock at `now`. */
  readonly inForce: boolean;
  readonly now: number;
}

/** `fleet_exception_info`: what the reviewers wrote, for tables and alert labels. */
export function exceptionInfoSeries(
  store: SeriesStore,
  { exception: e, now }: ExceptionInput,
): void {
  const labels = formatLabels(METRICS.exceptionInfo, {
    exception: e.key,
    vulnerability: e.vulnerability,
    images: scopeLabel(e),
    reason: e.reason,
    owner: e.owner,
    ticket: e.ticket,
    expires: e.expires,
  });
  store.setSingle(e.key, labels, 1, now);
}

/** `fleet_exception_expiry_timestamp_seconds`. */
export function exceptionExpirySeries(
  store: SeriesStore,
  { exception, now }: ExceptionInput,
): void {
  store.setSingle(
    exception.key,
    formatLabels(METRICS.exceptionExpiryTimestamp, { exception: exception.key }),
    expirySeconds(exception),
    now,
  );
}

/** `fleet_exception_in_force`. */
export function exceptionInForceSeries(
  store: SeriesStore,
  { exception, inForce, now }: ExceptionInput,
): void {
  store.setSingle(
    exception.key,
    formatLabels(METRICS.exceptionInForce, { exception: exception.key }),
    inForce ? 1 : 0,
    now,
  );
}

/** `fleet_exception_covered_images`. */
export function exceptionCoveredSeries(
  store: SeriesStore,
  { exception, coveredImages, now }: ExceptionInput,
): void {
  store.setSingle(
    exception.key,
    formatLabels(METRICS.exceptionCoveredImages, { exception: exception.key }),
    coveredImages,
    now,
  );
}
