/**
 * zod fields shared by the commands' option schemas: each validates with the pure core (so the error
 * names the flag and the allowed form) and yields the normal form the tool tags and compares with.
 */
import { z } from 'zod';
import { parseIssuerUrl } from '../core/issuer.js';
import { validateProjectPath } from '../core/refs.js';
import { refineWith } from './zod-issues.js';

/** `--project group/sub/app`: literal GitLab path, trimmed. */
export const projectPathField = () =>
  z
    .string()
    .superRefine(refineWith((v: string) => validateProjectPath(v)))
    .transform((v) => v.trim());

/** `--gitlab-url`: https, no port/query; normalised as init tags it (lower-case host, no trailing slash). */
export const gitlabUrlField = () =>
  z
    .string()
    .superRefine(refineWith((v: string) => parseIssuerUrl(v)))
    .transform((v) => parseIssuerUrl(v).url);
