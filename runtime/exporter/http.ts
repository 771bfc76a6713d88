/** Small HTTP helpers shared by the Pushgateway and Dependency-Track clients. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    body: string,
  ) {
    super(`HTTP ${status} from ${url}${body.trim() ? `: ${body.trim().slice(0, 300)}` : ''}`);
    this.name = 'HttpError';
  }
}

/** 4xx answers (except 408 and 429) will not change on retry. */
export function isPermanentHttpError(error: unknown): boolean {
  return (
    error instanceof HttpError &&
    error.status >= 400 &&
    error.status < 500 &&
    error.status !== 408 &&
    error.status !== 429
  );
}

export async function checkedFetch(url: string, init: RequestInit): Promise<Response> {
  const response = await fetch(url, init);
  if (!response.ok)
    throw new HttpError(response.status, url, await response.text().catch(() => ''));
  return response;
}
