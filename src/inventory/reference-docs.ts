/**
 * docs/inventory.md, generated from the inventory's JSON Schema (itself generated from the zod
 * schema), so the reference can never disagree with what validation accepts: every key, its type,
 * default and description, one table per map.
 */
import { inventoryJsonSchema, type JsonSchema } from './json-schema.ts';

/** Where the committed reference lives, relative to the repository root. */
export const INVENTORY_DOCS_FILE = 'docs/inventory.md';

interface Section {
  /** A dotted path (`defaults.schedule`), or the schema's title for a shape used in several places. */
  readonly title: string;
  /** Shared shapes are titled by name (`SLA`), the rest by their dotted path. */
  readonly named: boolean;
  readonly schema: JsonSchema;
}

const ROOT_TITLE = 'Top level';
/** Patterns longer than this are left to the JSON Schema and the error messages. */
const MAX_PATTERN_SHOWN = 40;

export function renderInventoryDocs(): string {
  const root = inventoryJsonSchema();
  const defs = (root.definitions ?? root.$defs ?? {}) as Readonly<Record<string, JsonSchema>>;
  const resolve = (schema: JsonSchema | boolean): JsonSchema => resolveRef(schema, defs);
  const sections: Section[] = [];
  // Depth first, so each map's section follows its parent's; shared shapes (definitions: SLA,
  // Resources, SecretKeyRef) are documented once, after the tree, wherever they are used.
  const visit = (section: Section): void => {
    sections.push(section);
    for (const [key, child] of Object.entries(section.schema.properties ?? {})) {
      if (typeof child === 'boolean' || defName(child) !== undefined) continue;
      const nested = nestedMap(child);
      if (nested !== undefined)
        visit({ title: sectionPath(section, key, nested !== child), named: false, schema: nested });
    }
  };
  visit({ title: ROOT_TITLE, named: true, schema: root });
  for (const [name, schema] of Object.entries(defs)) visit({ title: name, named: true, schema });
  return [HEADER, ONBOARDING, ...sections.map((section) => renderSection(section, resolve))].join(
    '\n',
  );
}

function resolveRef(
  schema: JsonSchema | boolean,
  defs: Readonly<Record<string, JsonSchema>>,
): JsonSchema {
  if (typeof schema === 'boolean') return {};
  const name = defName(schema);
  if (name === undefined) return schema;
  const { $ref: _ref, allOf: _allOf, ...useSite } = schema;
  return { ...defs[name], ...useSite };
}

function sectionPath(parent: Section, key: string, isList: boolean): string {
  const prefix = parent.title === ROOT_TITLE ? '' : `${parent.title}.`;
  return `${prefix}${key}${isList ? '[]' : ''}`;
}

function renderSection(
  section: Section,
  resolve: (schema: JsonSchema | boolean) => JsonSchema,
): string {
  const required = new Set(section.schema.required ?? []);
  const rows = Object.entries(section.schema.properties ?? {}).map(([key, child]) => {
    const shared = typeof child === 'object' ? defName(child) : undefined;
    const schema = resolve(child);
    const nested = nestedMap(schema);
    const isList = nested !== undefined && nested !== schema;
    const type =
      shared !== undefined
        ? `map, see [${shared}](#${anchor(shared)})`
        : nested === undefined
          ? typeOf(schema)
          : `${isList ? 'list of maps' : 'map'}, see [\`${sectionPath(section, key, isList)}\`](#${anchor(sectionPath(section, key, isList))})`;
    const fallback = required.has(key) ? '**required**' : '';
    const defaultValue =
      schema.default === undefined || isEmptyMap(schema.default)
        ? fallback
        : `\`${flowYaml(schema.default)}\``;
    return `| \`${key}\` | ${cell(type)} | ${cell(defaultValue)} | ${cell(schema.description ?? '')} |`;
  });
  const heading = section.named ? `## ${section.title}` : `## \`${section.title}\``;
  const intro =
    section.title !== ROOT_TITLE && section.schema.description !== undefined
      ? [section.schema.description, '']
      : [];
  return [
    heading,
    '',
    ...intro,
    '| Key | Type | Default | Description |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/**
 * The shared shape a `$ref` names (`#/definitions/SLA`). Draft-07 ignores keywords next to a
 * `$ref`, so a use with its own description or default wraps the `$ref` in a one-item `allOf`.
 */
function defName(schema: JsonSchema): string | undefined {
  const ref = schema.$ref ?? (schema.allOf?.length === 1 ? schema.allOf[0]?.$ref : undefined);
  return ref?.replace(/^#\/(definitions|\$defs)\//, '');
}

/** The map schema a key opens a section for: a map with named keys, or a list of such maps. */
function nestedMap(schema: JsonSchema): JsonSchema | undefined {
  if (schema.type === 'object' && schema.properties !== undefined) return schema;
  const items = schema.items;
  if (
    schema.type === 'array' &&
    typeof items === 'object' &&
    !Array.isArray(items) &&
    items.properties !== undefined
  )
    return items;
  return undefined;
}

function typeOf(schema: JsonSchema): string {
  // `not: {}` matches nothing: a key named only to refuse it with its own message.
  if (typeof schema.not === 'object' && Object.keys(schema.not).length === 0) return 'not accepted';
  if (schema.enum !== undefined)
    return `one of ${schema.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  const items = schema.items;
  if (schema.type === 'array' && typeof items === 'object' && !Array.isArray(items)) {
    const min = schema.minItems === undefined ? '' : `, at least ${schema.minItems}`;
    return `list of ${plural(typeOf(items))}${min}`;
  }
  if (schema.type === 'object') {
    const value = schema.additionalProperties;
    return typeof value === 'object' ? `map of string to ${typeOf(value)}` : 'map';
  }
  const constraints: string[] = [];
  if (schema.format === 'uri') constraints.push('URL');
  if (schema.minLength !== undefined && schema.minLength > 0) constraints.push('not empty');
  if (schema.maxLength !== undefined) constraints.push(`at most ${schema.maxLength} characters`);
  if (schema.pattern !== undefined && schema.pattern.length <= MAX_PATTERN_SHOWN)
    constraints.push(`matching \`${schema.pattern}\``);
  if (typeof schema.exclusiveMinimum === 'number') constraints.push(`> ${schema.exclusiveMinimum}`);
  // zod bounds every integer by the safe-integer range: not worth a mention.
  if (schema.minimum !== undefined && schema.minimum > Number.MIN_SAFE_INTEGER)
    constraints.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER)
    constraints.push(`≤ ${schema.maximum}`);
  const base = String(schema.type ?? 'any');
  return constraints.length === 0 ? base : `${base} (${constraints.join(', ')})`;
}

function plural(type: string): string {
  return type.replace(/^(string|number|integer|boolean|map)\b/, '$1s');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchor(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function isEmptyMap(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 0
  );
}

/** A default as YAML flow text: `{critical: 24, high: 168}`, `[alertname, image]`. */
function flowYaml(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flowYaml).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${flowScalar(k)}: ${flowYaml(v)}`)
      .join(', ')}}`;
  }
  return typeof value === 'string' ? flowScalar(value) : String(value);
}

function flowScalar(text: string): string {
  // Plain when YAML reads it back as the same string; quoted when it would read as something else.
  const special = /^$|^[-?:,[\]{}#&*!|>'"%@`\s]|[,[\]{}]|: | #|\s$/.test(text);
  const notString =
    /^(true|false|null|~|[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?|0x[\da-fA-F]+|0o[0-7]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$/i.test(
      text,
    );
  return special || notString ? JSON.stringify(text) : text;
}

const HEADER = `# Inventory reference

<!-- Generated from src/inventory/schema.ts by \`npm run schema\`. Do not edit by hand. -->

\`inventory.yaml\` describes the fleet: the images copa-fleet patches and tracks, and how the
generated CronJobs, rules, routes and dashboard fit your cluster. Only \`images\` is required;
every other key has the default shown here.

\`\`\`yaml
# yaml-language-server: $schema=./inventory.schema.json
images:
  - ref: registry.example.com/myapp:1.4.2
\`\`\`

Validation is strict: an unknown key (a typo) is an error, and every error names the file, line,
column and field, all at once (\`copa-fleet validate\`). Editors that run yaml-language-server
complete and check the file with \`inventory.schema.json\`.
`;

const ONBOARDING = `## Onboard an image

1. Add an entry under \`images:\` with the tag your workloads deploy today:

   \`\`\`yaml
   images:
     - ref: registry.example.com/payments/api:3.8.1
       team: payments          # owner: labels and alert routing
       sla: {critical: 12}     # optional: stricter than defaults.sla
   \`\`\`

   A Docker Hub short name (\`nginx:1.27\`) is fine: every reference is normalised
   (\`copa-fleet normalize nginx:1.27\` prints \`docker.io/library/nginx:1.27\`), and two entries
   that normalise to the same reference are an error.
2. Check it: \`npm run validate\` (or \`bin/copa-fleet validate --inventory FILE\`).
3. Make sure the registry credentials Secret (\`defaults.registryCredentialsSecret\`) can push
   the patched tag (\`<tag>-patched\` unless \`patchedTag\` says otherwise) to that repository.
4. \`npm run synth\` and commit \`dist/\` to your GitOps repository.
5. Point the workloads at the patched tag. Until their Pods run the latest patched digest, the
   drift metric (and \`copa-fleet drift\`) lists them.

To stop patching an image without losing its entry, set \`enabled: false\`.

## Risk acceptance

Some CVEs cannot be fixed in time: no fix upstream, a vendor image, a false positive. Accept them
in \`exceptions:\`, reviewed in Git like every other change, instead of silencing the alert (a
silence hides the whole image and never expires by policy) or ignoring the CVE in Trivy (it
vanishes from the evidence):

\`\`\`yaml
exceptions:
  - id: CVE-2024-45337                 # a CVE or GHSA id, as trivy-operator reports it
    images: [registry.example.com/payments/api]   # a repository, repo:tag, or "*" (whole fleet)
    reason: not_affected               # not_affected | false_positive | no_fix_available | accepted_risk
    statement: The service never uses golang.org/x/crypto/ssh server code.
    owner: payments-security
    ticket: SEC-1234
    approved: "2026-11-20"
    expires: "2027-02-18"              # required; at most defaults.maxExceptionDays (90) after approved
exceptionFiles:                        # OpenVEX documents: their not_affected statements are imported
  - path: vex/vendor-gateway.openvex.json
    owner: platform-security
    ticket: SEC-1300
    approved: "2026-11-20"
    expires: "2027-01-31"              # OpenVEX has no expiry: this one applies to every statement
\`\`\`

- **The evidence stays.** An accepted CVE keeps its age (first-seen time) and its SLA breach is
  still recorded, counted apart as *accepted*: it does not fire \`CriticalCVESLABreach\`, and
  the dashboard shows the compliance ratio twice, strict and with accepted risk.
- **Every exception expires.** It is in force from 00:00 UTC of \`approved\` until 00:00 UTC of
  \`expires\`. The day it lapses the breach counts again, with the first-seen time it always had.
  Synth output never depends on today's date: the collector decides at run time, and
  \`copa-fleet validate\` warns (not an error) about exceptions that have expired or expire within
  14 days.
- **Scopes** are normalised like every reference: \`nginx\` is \`docker.io/library/nginx\` (every
  tag); \`nginx:1.27.3\` covers that inventory entry and its patched tag; \`"*"\` the whole fleet.
  A tag scope matches the tag a pod's spec names (\`spec.containers[].image\`); a pod that names
  its image by digest alone is covered only by a repository or \`"*"\` scope. A CVE counts as
  accepted on an image only when every running container that carries it is covered.
  A scope that names no inventoried image, a vulnerability accepted twice for one image, a
  missing or too distant expiry, an unknown reason or an invalid id is an error naming the line.
- **OpenVEX** (\`exceptionFiles\`): statements with status \`not_affected\` whose products name
  inventoried images (\`pkg:oci/…?repository_url=…\` package URLs or plain references) become
  exceptions with reason \`not_affected\`; other statuses and other products are skipped. A file
  that imports nothing is an error.

## Which CVEs run the SLA clock

trivy-operator reports CVEs without a fixed version, and language-library CVEs that Copa cannot
patch (its \`trivy.ignoreUnfixed: false\` default). With \`defaults.slaScope: fixable\` (the default;
per image \`slaScope\`), only CVEs whose VulnerabilityReport entry has a \`fixedVersion\` count
towards the SLA, and **the clock of a CVE starts when a fix is first seen**, not when the CVE was
first seen: an SLA measures how long a *possible* patch took. Unfixable CVEs stay visible in their
own series and dashboard panel. \`slaScope: all\` counts every CVE from the moment it is first seen.
`;
