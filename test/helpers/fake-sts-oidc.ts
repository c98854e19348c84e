/**
 * An honest simulation of STS AssumeRoleWithWebIdentity for the fake AWS (test/helpers/fake-aws.ts):
 * plug `handler` into `createFakeAws({ onAssumeRoleWithWebIdentity })`. The loopback IAM/STS server
 * (iam-server.ts) runs the same handler for every AssumeRoleWithWebIdentity it receives.
 *
 * Like STS it: maps the token's `iss` (exactly, minus `https://`) to an IAM OIDC provider of the fake
 * account; checks the RS256 signature against the keys it fetched from the issuer's discovery document
 * (`trustIssuer`, the way STS fetches the JWKS); refuses tokens more than 5 minutes past `exp`; requires
 * `aud` to be one of the provider's client IDs; then evaluates the role's trust policy for the request
 * context STS builds (`<host>:sub`, `<host>:aud`, and the `gitlab.com:*` keys on gitlab.com).
 *
 * Refusals use STS's wire codes and messages (Query-protocol codes, as in the SDK's error schemas):
 * - `InvalidIdentityToken` (400): not a JWT, no provider for `iss`, keys not retrievable, bad
 *   signature, `aud` not a client ID of the provider;
 * - `ExpiredTokenException` (400): past `exp` (plus the clock skew STS allows);
 * - `AccessDenied` (403) "Not authorized to perform sts:AssumeRoleWithWebIdentity": no such role, or
 *   its trust policy does not allow the request.
 * `IDPRejectedClaim` (403) is not simulated: STS returns it when an IdP it asks (the OAuth 2.0
 * providers: Amazon, Facebook, Google access tokens) rejects the token, and an OIDC ID token is
 * validated by STS itself against the JWKS. `IDPCommunicationError` is left to failure injection.
 * Provider thumbprints are not checked either.
 *
 * The fake's hook is synchronous, hence node:crypto for the signature and keys fetched beforehand.
 */
import { createPublicKey, verify as cryptoVerify, type JsonWebKey } from 'node:crypto';
import https from 'node:https';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { buildRequestContext } from '../../src/core/claims.js';
import { evaluateTrustPolicy } from '../../src/core/evaluate.js';
import type { PolicyDocument } from '../../src/core/types.js';
import { claimsFromToken } from '../../src/verify/run.js';
import type { AssumeRoleWithWebIdentityCall, FakeAwsOptions } from './fake-aws.js';
import { FakeAwsFailure } from './fake-aws-errors.js';
import type { FakeIamState } from './fake-aws-iam.js';

const CLOCK_SKEW_SECONDS = 300;

export interface StsDecision {
  roleArn: string;
  /** Undefined when the role was assumed. */
  refusedWith?: string;
}

export interface FakeStsOidc {
  /** Fetches `<issuer>/.well-known/openid-configuration` and its JWKS, trusting `ca` (STS's key fetch). */
  trustIssuer(issuerUrl: string, ca: string): Promise<void>;
  handler: NonNullable<FakeAwsOptions['onAssumeRoleWithWebIdentity']>;
  decisions: StsDecision[];
}

function getJson(url: string, ca: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${url}: HTTP ${res.statusCode}`));
          else resolve(JSON.parse(body));
        });
      })
      .on('error', reject);
  });
}

function parseTrustPolicy(text: string): PolicyDocument {
  try {
    return JSON.parse(text) as PolicyDocument;
  } catch {
    return JSON.parse(decodeURIComponent(text)) as PolicyDocument;
  }
}

export function createFakeStsOidc(options: { now?: () => Date } = {}): FakeStsOidc {
  const now = options.now ?? (() => new Date());
  const keysByIssuer = new Map<string, JsonWebKey[]>();
  const decisions: StsDecision[] = [];

  function refuse(roleArn: string, code: string, message: string): never {
    decisions.push({ roleArn, refusedWith: code });
    throw new FakeAwsFailure(code, message);
  }

  const handler = (input: AssumeRoleWithWebIdentityCall, state: FakeIamState): undefined => {
    const { RoleArn: roleArn, WebIdentityToken: token } = input;
    let payload: Record<string, unknown>;
    let kid: string | undefined;
    try {
      payload = decodeJwt(token) as Record<string, unknown>;
      kid = decodeProtectedHeader(token).kid;
    } catch {
      refuse(roleArn, 'InvalidIdentityToken', 'The ID Token provided is not a valid JWT.');
    }
    const iss = typeof payload.iss === 'string' ? payload.iss : '';
    const hostPath = iss.startsWith('https://') ? iss.slice('https://'.length) : undefined;
    const provider =
      hostPath === undefined ? undefined : [...state.providers.values()].find((p) => p.url === hostPath);
    if (!provider) {
      refuse(roleArn, 'InvalidIdentityToken', `No OpenIDConnect provider found in your account for ${iss}`);
    }

    const keys = keysByIssuer.get(iss);
    if (!keys)
      refuse(
        roleArn,
        'InvalidIdentityToken',
        "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements",
      );
    const jwk = keys.find((k) => (k as { kid?: string }).kid === kid);
    const [header, body, signature] = token.split('.');
    const signedOk =
      jwk !== undefined &&
      cryptoVerify(
        'sha256',
        Buffer.from(`${header}.${body}`),
        createPublicKey({ key: jwk, format: 'jwk' }),
        Buffer.from(signature ?? '', 'base64url'),
      );
    if (!signedOk) refuse(roleArn, 'InvalidIdentityToken', 'Provided Token is not properly signed.');

    const t = Math.floor(now().getTime() / 1000);
    if (typeof payload.exp === 'number' && t > payload.exp + CLOCK_SKEW_SECONDS) {
      refuse(
        roleArn,
        'ExpiredTokenException',
        `Token expired: current date/time ${t} must be before the expiration date/time ${payload.exp}`,
      );
    }
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!audiences.some((a) => typeof a === 'string' && provider.clientIds.includes(a))) {
      refuse(roleArn, 'InvalidIdentityToken', 'Incorrect token audience');
    }

    const role = state.roles.get((roleArn.split('/').pop() ?? '').toLowerCase());
    if (!role || role.arn !== roleArn) {
      refuse(roleArn, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    }
    const claims = claimsFromToken(payload);
    const evaluation = evaluateTrustPolicy({
      policy: parseTrustPolicy(role.trustPolicy),
      providerArn: provider.arn,
      clientIds: provider.clientIds,
      context: buildRequestContext(claims, {
        hostPath: provider.url,
        isGitlabCom: provider.url === 'gitlab.com',
      }),
    });
    if (!evaluation.assumable) {
      refuse(roleArn, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    }
    decisions.push({ roleArn });
    return undefined;
  };

  return {
    async trustIssuer(issuerUrl, ca) {
      const discovery = (await getJson(`${issuerUrl}/.well-known/openid-configuration`, ca)) as {
        jwks_uri: string;
      };
      const jwks = (await getJson(discovery.jwks_uri, ca)) as { keys: JsonWebKey[] };
      keysByIssuer.set(issuerUrl, jwks.keys);
    },
    handler,
    decisions,
  };
}
