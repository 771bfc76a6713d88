/**
 * The exit-code file that `copa-fleet-exporter exec` writes next to Copa's log: a decimal exit
 * code, or `signal:<NAME>` when the child was killed by a signal. The file is what lets the exporter
 * tell "Copa failed" (exit 1) from "Copa was killed" (signal) after the patch container is gone.
 */
export type ExitRecord =
  | { readonly kind: 'code'; readonly code: number }
  | { readonly kind: 'signal'; readonly signal: string };

export function formatExitRecord(record: ExitRecord): string {
  return record.kind === 'code' ? `${record.code}\n` : `signal:${record.signal}\n`;
}

/** Parses the file's text; undefined when it is not in the format above. */
export function parseExitRecord(text: string): ExitRecord | undefined {
  const value = text.trim();
  if (/^[0-9]{1,3}$/.test(value)) return { kind: 'code', code: Number(value) };
  const signal = /^signal:(SIG[A-Z0-9]+)$/.exec(value);
  return signal?.[1] !== undefined ? { kind: 'signal', signal: signal[1] } : undefined;
}
