/** A file synth writes under the output directory, besides the cdk8s chart manifests. */
export interface OutputFile {
  /** Relative to the output directory, `/`-separated, e.g. `prometheus/rules.yaml`. */
  readonly path: string;
  readonly content: string;
}

/**
 * A file whose content is produced piece by piece while it is written, so that a large manifest
 * never exists as one string. `chunks` may be iterated more than once (each pass renders anew) and
 * may throw part-way: the writer then abandons the whole output.
 */
export interface StreamedFile {
  readonly path: string;
  readonly chunks: Iterable<string>;
}

/** Either kind of file, as the output writer takes them. */
export type FileToWrite = OutputFile | StreamedFile;

/** The content of a file as one string (tests, small outputs). */
export function contentOf(file: FileToWrite): string {
  return 'content' in file ? file.content : [...file.chunks].join('');
}
