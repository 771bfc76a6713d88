/** A file synth writes under the output directory, besides the cdk8s chart manifests. */
export interface OutputFile {
  /** Relative to the output directory, `/`-separated, e.g. `prometheus/rules.yaml`. */
  readonly path: string;
  readonly content: string;
}
