/**
 * Image reference normalisation: the one function every comparison in copa-fleet goes through
 * (inventory entries, Pod `imageID`s, Trivy report images, the patched-digest store, the audit CLI).
 *
 * Follows github.com/distribution/reference (ParseNormalizedNamed) and adds the two rules a
 * running cluster needs: `:443` is the default HTTPS port and is dropped, and the container
 * runtime prefixes `docker-pullable://` / `docker://` are stripped.
 *
 * Shared with the runtime programs: keep it dependency-free.
 */

export const DEFAULT_REGISTRY = 'docker.io';
/** The tag a reference without one means (and Copa patches). */
export const DEFAULT_TAG = 'latest';
const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const RUNTIME_PREFIXES = ['docker-pullable://', 'docker://'] as const;
const MAX_NAME_LENGTH = 255;

const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/;
const PORT = /^[0-9]+$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** A normalised reference. `name` (registry + path) is what the `image` metric label carries. */
export interface ImageRef {
  /** Lower-cased registry host, `:443` dropped, `docker.io` for Docker Hub. */
  readonly registry: string;
  /** Repository path inside the registry, e.g. `library/nginx`. */
  readonly path: string;
  /** `registry/path`: the repository, with no tag and no digest. */
  readonly name: string;
  readonly tag?: string;
  readonly digest?: string;
}

export type ParseResult =
  { readonly ok: true; readonly ref: ImageRef } | { readonly ok: false; readonly reason: string };

/** Parses and normalises `input`; never throws. */
export function parseImageRef(input: string): ParseResult {
  if (typeof input !== 'string') return fail('not a string');
  let rest = input.trim();
  if (rest === '') return fail('empty reference');
  if (rest !== input) return fail('leading or trailing whitespace');
  for (const prefix of RUNTIME_PREFIXES) {
    if (rest.startsWith(prefix)) {
      rest = rest.slice(prefix.length);
      break;
    }
  }
  if (SHA256_DIGEST.test(rest)) return fail('a bare digest names no repository');

  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return fail(`invalid digest "${digest}" (expected algorithm:hex)`);
    if (digest.startsWith('sha256:') && !SHA256_DIGEST.test(digest)) {
      return fail(`invalid sha256 digest "${digest}" (expected 64 lower-case hex characters)`);
    }
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag))
      return fail(`invalid tag "${tag}" (expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})`);
  }
  if (rest === '') return fail('missing repository name');

  const split = splitDomain(rest);
  if (!split.ok) return split;
  const { registry, path } = split;
  const name = `${registry}/${path}`;
  if (name.length > MAX_NAME_LENGTH)
    return fail(`repository name longer than ${MAX_NAME_LENGTH} characters`);
  return {
    ok: true,
    ref: {
      registry,
      path,
      name,
      ...(tag !== undefined && { tag }),
      ...(digest !== undefined && { digest }),
    },
  };
}

/** Normalises `input` or throws an Error whose message names the input and the reason. */
export function normalizeImageRef(input: string): ImageRef {
  const result = parseImageRef(input);
  if (!result.ok) throw new InvalidImageRefError(input, result.reason);
  return result.ref;
}

export class InvalidImageRefError extends Error {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid image reference "${input}": ${reason}`);
    this.name = 'InvalidImageRefError';
  }
}

/** The canonical string form: `registry/path[:tag][@digest]`. */
export function formatImageRef(ref: ImageRef): string {
  return `${ref.name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The normalised repository (`image` label) of any reference form, or undefined when invalid. */
export function repositoryOf(input: string): string | undefined {
  const result = parseImageRef(input);
  return result.ok ? result.ref.name : undefined;
}

/**
 * Normalises a bare digest as users and tools write it (`sha256:abc…` or just `abc…`).
 * Returns undefined when it is not a sha256 digest.
 */
export function normalizeDigest(input: string): string | undefined {
  const value = input.trim().toLowerCase();
  const withAlgorithm = value.startsWith('sha256:') ? value : `sha256:${value}`;
  return SHA256_DIGEST.test(withAlgorithm) ? withAlgorithm : undefined;
}

function splitDomain(
  name: string,
): { ok: true; registry: string; path: string } | { ok: false; reason: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  // distribution/reference: the first component is a registry when it looks like a host.
  const isDomain =
    slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first);
  let registry = DEFAULT_REGISTRY;
  let path = name;
  if (isDomain) {
    const domain = validateDomain(first);
    if (!domain.ok) return domain;
    registry = domain.host;
    path = name.slice(slash + 1);
  }
  if (registry === LEGACY_DEFAULT_REGISTRY) registry = DEFAULT_REGISTRY;
  if (path === '') return { ok: false, reason: 'missing repository path after the registry' };
  for (const component of path.split('/')) {
    if (component === '') return { ok: false, reason: 'empty path component' };
    if (!PATH_COMPONENT.test(component)) {
      const reason =
        component.toLowerCase() !== component && PATH_COMPONENT.test(component.toLowerCase())
          ? `repository name must be lower-case ("${component}")`
          : `invalid path component "${component}" (expected lower-case letters and digits separated by ".", "_", "__" or "-")`;
      return { ok: false, reason };
    }
  }
  if (registry === DEFAULT_REGISTRY && !path.includes('/')) path = `${OFFICIAL_REPO_PREFIX}${path}`;
  return { ok: true, registry, path };
}

function validateDomain(
  domain: string,
): { ok: true; host: string } | { ok: false; reason: string } {
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith('[')) {
    const end = domain.indexOf(']');
    host = domain.slice(0, end + 1);
    if (end === -1 || !IPV6_HOST.test(host))
      return { ok: false, reason: `invalid registry host "${domain}"` };
    const after = domain.slice(end + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return { ok: false, reason: `invalid registry host "${domain}"` };
      port = after.slice(1);
    }
  } else {
    const colon = domain.indexOf(':');
    if (colon !== -1) {
      host = domain.slice(0, colon);
      port = domain.slice(colon + 1);
    }
    if (!host.split('.').every((part) => DOMAIN_COMPONENT.test(part))) {
      return { ok: false, reason: `invalid registry host "${domain}"` };
    }
  }
  if (port !== undefined && (!PORT.test(port) || Number(port) > 65535)) {
    return { ok: false, reason: `invalid registry port in "${domain}"` };
  }
  host = host.toLowerCase();
  // distribution/reference reads an upper-case first component as a host; lower-cased it would
  // read as a Docker Hub namespace, so normalisation would not be idempotent. Nobody names a
  // registry that way: reject it.
  if (port === undefined && !host.includes('.') && host !== 'localhost' && !host.startsWith('[')) {
    return {
      ok: false,
      reason: `"${domain}" is neither a registry host (no "." or ":") nor a lower-case repository namespace`,
    };
  }
  // `:443` is dropped only where the bare host still reads as a registry: `myregistry:443/app`
  // without its port would read as the Docker Hub repository `myregistry/app`.
  const dropPort =
    port === '443' && (host.includes('.') || host === 'localhost' || host.startsWith('['));
  return { ok: true, host: port === undefined || dropPort ? host : `${host}:${port}` };
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
