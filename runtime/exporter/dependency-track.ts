/**
 * Optional upload of the patched image's CycloneDX BOM to Dependency-Track: `PUT /api/v1/bom`
 * with `autoCreate`, the API key from the environment (a Secret reference in the pod spec).
 * Retries transient failures with backoff inside its own budget; never throws, so it can never
 * block or fail the metrics push.
 */
import { readFile } from 'node:fs/promises';
import { checkedFetch, isPermanentHttpError } from './http.ts';
import { errorMessage, log } from './log.ts';
import { requestTimeout, retryUntil } from './retry.ts';

export interface BomUpload {
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  readonly projectName: string;
  readonly projectVersion: string;
  readonly bomFile: string;
  /** Epoch ms after which no new attempt starts. */
  readonly deadline: number;
}

export async function uploadBom(upload: BomUpload): Promise<'uploaded' | 'failed'> {
  if (upload.apiKey === undefined || upload.apiKey === '') {
    log('error', {
      event: 'dependency_track_upload',
      result: 'failed',
      error: 'no API key in the environment',
    });
    return 'failed';
  }
  let bom: Buffer;
  try {
    bom = await readFile(upload.bomFile);
  } catch (error) {
    log('error', {
      event: 'dependency_track_upload',
      result: 'failed',
      error: `cannot read the BOM: ${errorMessage(error)}`,
    });
    return 'failed';
  }
  const url = `${upload.baseUrl.replace(/\/+$/, '')}/api/v1/bom`;
  const body = JSON.stringify({
    projectName: upload.projectName,
    projectVersion: upload.projectVersion,
    autoCreate: true,
    bom: bom.toString('base64'),
  });
  try {
    await retryUntil(
      { deadline: upload.deadline, target: 'dependency-track', isPermanent: isPermanentHttpError },
      (remaining) =>
        checkedFetch(url, {
          method: 'PUT',
          body,
          headers: { 'content-type': 'application/json', 'x-api-key': upload.apiKey ?? '' },
          signal: requestTimeout(remaining, 15_000),
        }),
    );
    log('info', {
      event: 'dependency_track_upload',
      result: 'uploaded',
      project: upload.projectName,
      version: upload.projectVersion,
    });
    return 'uploaded';
  } catch (error) {
    log('error', {
      event: 'dependency_track_upload',
      result: 'failed',
      error: errorMessage(error),
    });
    return 'failed';
  }
}
