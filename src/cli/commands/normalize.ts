/** `copa-fleet normalize`: prints references the way every comparison in copa-fleet sees them. */
import { parseArgs } from 'node:util';
import { formatImageRef, parseImageRef } from '../../shared/image-ref.ts';
import { type Command, EXIT, type ExitCode, UsageError } from '../command.ts';

const USAGE = `Usage: copa-fleet normalize REF...

Prints each image reference normalised, one per line, in the order given: the form copa-fleet
uses to match inventory entries, Pod imageIDs, Trivy reports and patched digests. Use it to see
why a Pod does or does not match an image.

Rules (distribution/reference): the default registry is docker.io, official images get
library/, index.docker.io is docker.io, the :443 port is dropped, the registry host is
lower-cased, and the docker-pullable:// and docker:// prefixes of Pod imageIDs are removed.

Examples:
  copa-fleet normalize nginx:1.25                       # docker.io/library/nginx:1.25
  copa-fleet normalize registry.example.com:443/app:v1  # registry.example.com/app:v1
  copa-fleet normalize docker-pullable://nginx@sha256:<64 hex>

Options:
  -h, --help  Show this help

Exit status: 0 all valid, 1 some reference is invalid (the valid ones are still printed),
2 usage error.
`;

export const normalizeCommand: Command = {
  name: 'normalize',
  summary: 'print image references normalised, one per line',
  usage: USAGE,
  // Synchronous work: the Command interface's promise is resolved here (main.ts awaits it in its try).
  run(argv, io) {
    const { positionals } = parseArgs({
      args: [...argv],
      options: {},
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length === 0) throw new UsageError('give at least one image reference');
    let exit: ExitCode = EXIT.ok;
    for (const input of positionals) {
      const result = parseImageRef(input);
      if (result.ok) {
        io.stdout(`${formatImageRef(result.ref)}\n`);
      } else {
        io.stderr(
          `copa-fleet normalize: invalid image reference ${JSON.stringify(input)}: ${result.reason}\n`,
        );
        exit = EXIT.invalid;
      }
    }
    return Promise.resolve(exit);
  },
};
