/**
 * The collector's HTTP endpoints: `/metrics` (Prometheus text format), `/healthz` (liveness: the
 * process serves requests and its event loop is not starved) and `/readyz` (readiness: every
 * informer listed once and the SLA state was loaded).
 */
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError, type Logger } from './log.ts';

export interface Endpoints {
  readonly contentType: string;
  /** The /metrics body, in chunks. */
  render(): AsyncIterable<string>;
  /** What readiness still waits for (empty: ready). */
  missing(): string[];
}

/** An event loop that did not run a 1 s timer for this long is starved. */
const MAX_LOOP_LAG_MS = 10_000;

export class CollectorServer {
  private readonly server: Server;
  private lastBeat = Date.now();
  private readonly beat: NodeJS.Timeout;

  constructor(
    private readonly endpoints: Endpoints,
    private readonly log: Logger,
  ) {
    this.beat = setInterval(() => (this.lastBeat = Date.now()), 1000);
    this.beat.unref();
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      switch (path) {
        case '/metrics':
          this.serveMetrics(res).catch((error: unknown) => {
            this.log.error('metrics failed', { error: describeError(error) });
            if (!res.headersSent)
              res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics failed\n');
            else res.destroy();
          });
          return;
        case '/healthz': {
          const lag = Date.now() - this.lastBeat;
          const ok = lag < MAX_LOOP_LAG_MS;
          res
            .writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' })
            .end(ok ? 'ok\n' : `event loop lag ${lag} ms\n`);
          return;
        }
        case '/readyz': {
          const missing = this.endpoints.missing();
          const ok = missing.length === 0;
          res
            .writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' })
            .end(`${JSON.stringify({ ready: ok, waitingFor: missing })}\n`);
          return;
        }
        default:
          res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      }
    });
    this.server.keepAliveTimeout = 65_000;
  }

  /** Streams the body with backpressure (a slow scraper never makes the whole body pile up in memory). */
  private async serveMetrics(res: ServerResponse): Promise<void> {
    res.writeHead(200, { 'Content-Type': this.endpoints.contentType });
    for await (const chunk of this.endpoints.render()) {
      if (res.destroyed) return;
      if (!res.write(chunk)) await once(res, 'drain');
    }
    res.end();
  }

  listen(port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    clearInterval(this.beat);
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }
}
