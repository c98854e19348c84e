/**
 * What the optional verify job runs. The job extends the hidden job, so whatever it runs holds the role's
 * credentials: the source is always named by the user, never defaulted, and an unpinned one needs consent.
 *
 * - `--verify-image <image>@sha256:<digest>`: an image with `gitlab-aws-oidc` on its PATH (pinned by
 *   content). A tag alone (`image:1.2.3`) can be moved by whoever can push to the repository: unpinned.
 * - `--verify-package <name>@<x.y.z>`: `npx` installs that exact version from the npm registry when the
 *   job runs. Whoever owns the name decides what that version is (anyone, until it is published): unpinned.
 */
import { UsageError } from '../errors.js';

export type VerifySource = { kind: 'image'; image: string } | { kind: 'package'; spec: string };

/** Image for `--verify-package` (Node satisfying the package's `engines`). */
export const NODE_IMAGE = 'node:22-alpine';
/** The command the verify job runs from an image. */
export const VERIFY_COMMAND = 'gitlab-aws-oidc verify';

const DOMAIN_PART = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const PATH_PART = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
/** The Docker reference grammar: [domain[:port]/]path[:tag][@digest]. */
const IMAGE = new RegExp(
  `^(?:(?<domain>${DOMAIN_PART}(?:\\.${DOMAIN_PART})*(?::\\d{1,5})?)/)?` +
    `(?<path>${PATH_PART}(?:/${PATH_PART})*)` +
    '(?::(?<tag>[\\w][\\w.-]{0,127}))?' +
    '(?:@(?<digest>sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}))?$',
);
const PACKAGE_NAME = '(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*';
const EXACT_VERSION = '\\d+\\.\\d+\\.\\d+(?:-[0-9A-Za-z.-]+)?';
const PACKAGE = new RegExp(`^(?<name>${PACKAGE_NAME})@(?<version>${EXACT_VERSION})$`);

/** Checks `--verify-image`; returns whether it is pinned by digest. */
export function validateVerifyImage(image: string, field = '--verify-image'): { pinned: boolean } {
  const m = IMAGE.exec(image);
  // A first segment without `.`, `:` or `localhost` is part of the path on Docker Hub, which the regex allows.
  if (!m?.groups || image.length > 255) {
    throw UsageError.field(
      field,
      `"${image}" is not an image reference (registry/path/name:tag or registry/path/name@sha256:<64 hex>)`,
    );
  }
  if (m.groups.tag === undefined && m.groups.digest === undefined) {
    throw UsageError.field(
      field,
      `"${image}" names no tag or digest (that is "latest", whatever it is when the job runs); pin a digest: ${image}@sha256:<64 hex>`,
    );
  }
  return { pinned: m.groups.digest !== undefined };
}

/** Checks `--verify-package`: an exact version from the npm registry, nothing else. */
export function validateVerifyPackage(spec: string, field = '--verify-package'): void {
  if (!PACKAGE.test(spec) || spec.length > 214 + 40) {
    throw UsageError.field(
      field,
      `"${spec}" must be an npm package at an exact version (gitlab-aws-oidc@1.2.3); ranges, tags, URLs and git sources are refused`,
    );
  }
}

/** Is this source pinned by content (so no consent is needed)? */
export function isPinnedVerifySource(source: VerifySource): boolean {
  return source.kind === 'image' && validateVerifyImage(source.image).pinned;
}

export interface VerifyJobRun {
  image: string;
  command: string;
  /** Short form, for the job's marker comment. */
  source: string;
  /** Plain words for the plan: what runs with the role's credentials. */
  description: string;
}

/** The image and command of the verify job, validated (they are substituted into the YAML and the shell line). */
export function verifyJobRun(source: VerifySource): VerifyJobRun {
  if (source.kind === 'image') {
    const { pinned } = validateVerifyImage(source.image);
    return {
      image: source.image,
      command: VERIFY_COMMAND,
      source: `image ${source.image}`,
      description: `image ${source.image}${pinned ? '' : ' (pinned by tag only: whoever can push to it decides what runs)'}`,
    };
  }
  validateVerifyPackage(source.spec);
  return {
    image: NODE_IMAGE,
    command: `npx --yes --package=${source.spec} -- gitlab-aws-oidc verify`,
    source: `npm package ${source.spec} (installed from the npm registry by name when the job runs)`,
    description: `npm package ${source.spec}, fetched from the npm registry by name when the job runs (its owner decides what that version is), in ${NODE_IMAGE}`,
  };
}
