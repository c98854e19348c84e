/**
 * zod fields shared by the commands' option schemas: each validates with the pure core (so the error
 * names the flag and the allowed form) and yields the normal form the tool tags and compares with.
 */
import * as z from 'zod';
import { parseIssuerUrl } from '../core/issuer.js';
import { validateProjectPath } from '../core/refs.js';
import { parseGitlabApiUrl, validateTokenEnvName } from './gitlab-api.js';
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

/** `--gitlab-token-env NAME`: an environment variable name (never the token itself). */
export const gitlabTokenEnvField = () =>
  z
    .string()
    .superRefine(refineWith((v: string) => validateTokenEnvName(v)))
    .transform((v) => v.trim());

/** `--gitlab-api-url`: https (http only on loopback), normalised without a trailing /api/v4. */
export const gitlabApiUrlField = () =>
  z
    .string()
    .superRefine(refineWith((v: string) => parseGitlabApiUrl(v)))
    .transform((v) => parseGitlabApiUrl(v));
