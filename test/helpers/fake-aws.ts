/**
 * A stateful in-memory IAM/STS behind aws-sdk-client-mock. Every IAMClient/STSClient instance
 * (the ones `ports` uses, and any `createAwsPorts()` builds) talks to it while it is installed.
 *
 *   let fake: FakeAws;
 *   beforeEach(() => { fake = createFakeAws(); });
 *   afterEach(() => fake.restore());
 *
 *   fake.addProvider({ url: 'https://gitlab.com', clientIds: ['https://gitlab.com'] });
 *   await runSomething(fake.ports);
 *   expect(fake.mutatingCalls()).toEqual(['CreateRole', 'AttachRolePolicy']);
 *   expect(fake.state.roles.get('deploy')?.attachedPolicyArns).toEqual([...]);
 *
 * Errors are SDK-shaped (modeled exception classes, `Code`, `$metadata.requestId`, `$fault`);
 * documents come back URL-encoded like real IAM. Inject failures with `failNext`/`failAfter`.
 */
import * as iamSdk from '@aws-sdk/client-iam';
import { IAMClient } from '@aws-sdk/client-iam';
import {
  AssumeRoleWithWebIdentityCommand,
  GetAccessKeyInfoCommand,
  GetCallerIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { createIamPort } from '../../src/aws/iam.js';
import type { AwsPorts } from '../../src/aws/ports.js';
import { createStsPort } from '../../src/aws/sts.js';
import type { PolicyDocument, Tags } from '../../src/core/types.js';
import {
  buildNoCredentialsError,
  buildServiceError,
  defaultMessageFor,
  FakeAwsFailure,
  fail,
} from './fake-aws-errors.js';
import {
  accessKeyAccount,
  createFakeIamState,
  createIamHandlers,
  type FakeAccessKey,
  type FakeIamState,
  type FakeRole,
  type FakeUser,
  type IamHandler,
  insertAccessKey,
  insertGroup,
  insertPolicy,
  insertUser,
  makeAccessKeyId,
} from './fake-aws-iam.js';

export type {
  FakeAccessKey,
  FakeGroup,
  FakeIamState,
  FakePolicy,
  FakeProvider,
  FakeRole,
  FakeUser,
} from './fake-aws-iam.js';

export interface AssumeRoleWithWebIdentityCall {
  RoleArn: string;
  RoleSessionName: string;
  WebIdentityToken: string;
  DurationSeconds?: number;
}

export interface FakeAwsOptions {
  account?: string;
  partition?: string;
  /** Default `arn:<partition>:iam::<account>:user/ci-admin`. */
  callerArn?: string;
  /** Every signed call fails like the SDK's credential chain does when it finds nothing. */
  noCredentials?: boolean;
  /**
   * The most items a List* page holds (IAM returns MaxItems, default 100, at most 1,000, and may return
   * fewer); default 1,000; use 1–2 to exercise pagination.
   */
  pageSize?: number;
  /**
   * Eventual consistency: CreateRole/UpdateAssumeRolePolicy naming a provider created fewer than
   * this many calls ago fail with `MalformedPolicyDocument: Invalid principal in policy`.
   */
  propagationDelayCalls?: number;
  /**
   * Replaces the default AssumeRoleWithWebIdentity behaviour (role must exist, else AccessDenied).
   * Throw `fakeAwsError(code, message)` to refuse; return to override the assumed role ARN.
   */
  onAssumeRoleWithWebIdentity?: (
    input: AssumeRoleWithWebIdentityCall,
    state: FakeIamState,
  ) => undefined | { assumedRoleArn?: string };
}

export interface RecordedCall {
  command: string;
  input: unknown;
}

export interface FakeAws {
  state: FakeIamState;
  account: string;
  partition: string;
  callerArn: string;
  iamMock: AwsClientStub<IAMClient>;
  stsMock: AwsClientStub<STSClient>;
  /** Ports over real SDK clients (us-east-1, static fake credentials) whose `send` is mocked. */
  ports: AwsPorts;
  /** Every call, in the order it was sent (failed ones included). */
  calls(): RecordedCall[];
  /** Names of the mutating calls, in order (failed ones included). */
  mutatingCalls(): string[];
  /** The next `times` (default 1) calls of `command` (`'GetRole'`) fail with `code`. */
  failNext(command: string, code: string, message?: string, options?: { times?: number }): void;
  /** After `n` more mutating calls, the next mutating call fails once with `code` (default ServiceFailure). */
  failAfter(n: number, code?: string, message?: string): void;
  addProvider(input: { url: string; clientIds?: string[]; thumbprints?: string[]; tags?: Tags }): string;
  addRole(input: {
    name: string;
    path?: string;
    trustPolicy: PolicyDocument | string;
    maxSessionDuration?: number;
    description?: string;
    permissionsBoundaryArn?: string;
    tags?: Tags;
    attachedPolicyArns?: string[];
    inlinePolicyNames?: string[];
    /** RoleLastUsed. */
    lastUsed?: { date: Date; region: string };
  }): string;
  /**
   * Adds a managed policy; `awsManaged` makes it `arn:<partition>:iam::aws:policy/<path><name>`.
   * `olderVersions` become v1…vN-1 (non-default) before the default `document`.
   */
  addPolicy(input: {
    name: string;
    path?: string;
    document: PolicyDocument;
    tags?: Tags;
    awsManaged?: boolean;
    olderVersions?: PolicyDocument[];
  }): string;
  /** Adds an IAM user (groups by name; inline policies by name → document). */
  addUser(input: Parameters<typeof insertUser>[2]): FakeUser;
  /** Adds an IAM group. */
  addGroup(input: Parameters<typeof insertGroup>[2]): string;
  /** Adds an access key (ID and secret) to a user; its ID names this account. */
  addAccessKey(userName: string, input?: Parameters<typeof insertAccessKey>[3]): FakeAccessKey;
  /** An access key ID that names another account (sts:GetAccessKeyInfo answers it); in no user here. */
  foreignAccessKeyId(account: string): string;
  /** Adds an EC2 instance profile holding `roleNames` (IAM allows one); returns its ARN. */
  addInstanceProfile(input: { name: string; path?: string; roleNames?: string[] }): string;
  providerArn(url: string): string;
  roleArn(name: string, path?: string): string;
  policyArn(name: string, path?: string): string;
  /** Uninstall the mocks. Call it in `afterEach`. */
  restore(): void;
}

/** An error for `onAssumeRoleWithWebIdentity` to throw (e.g. `InvalidIdentityToken`, `AccessDenied`). */
export function fakeAwsError(code: string, message?: string): FakeAwsFailure {
  return new FakeAwsFailure(code, message ?? defaultMessageFor(code));
}

const FAKE_CREDENTIALS = { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake-secret' };

const IAM_READS = new Set(['GetOpenIDConnectProvider', 'ListOpenIDConnectProviders', 'GetPolicyVersion']);
function isMutating(command: string): boolean {
  return !/^(Get|List)/.test(command) && !IAM_READS.has(command) && command !== 'AssumeRoleWithWebIdentity';
}

export function createFakeAws(options: FakeAwsOptions = {}): FakeAws {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const account = options.account ?? '123456789012';
  const partition = options.partition ?? 'aws';
  const callerArn = options.callerArn ?? `arn:${partition}:iam::${account}:user/ci-admin`;
  const state = createFakeIamState();
  const recorded: RecordedCall[] = [];
  const failures = new Map<string, { code: string; message: string }[]>();
  let failAfterState: { remaining: number; code: string; message: string } | undefined;
  let requestCounter = 0;
  const issuedKeys = new Map<string, string>();

  const handlers = createIamHandlers(state, {
    account,
    partition,
    pageSize: options.pageSize ?? 1000,
    propagationDelayCalls: options.propagationDelayCalls ?? 0,
    callCount: () => recorded.length,
  });

  const takeInjected = (command: string) => {
    const queue = failures.get(command);
    const next = queue?.shift();
    if (next) return next;
    if (failAfterState && isMutating(command)) {
      if (failAfterState.remaining === 0) {
        const { code, message } = failAfterState;
        failAfterState = undefined;
        return { code, message };
      }
      failAfterState.remaining--;
    }
    return undefined;
  };

  const dispatch = async (
    service: 'iam' | 'sts',
    command: string,
    input: object,
    handle: () => Record<string, unknown> | Promise<Record<string, unknown>>,
    signed = true,
  ) => {
    recorded.push({ command, input: structuredClone(input) });
    const requestId = `fake-${service}-${String(++requestCounter).padStart(6, '0')}`;
    // Let concurrent callers interleave as they would over the network.
    await Promise.resolve();
    if (signed && options.noCredentials) throw buildNoCredentialsError();
    const injected = takeInjected(command);
    if (injected) throw buildServiceError(service, injected.code, injected.message, requestId);
    try {
      const output = await handle();
      return { ...output, $metadata: { httpStatusCode: 200, requestId, attempts: 1, totalRetryDelay: 0 } };
    } catch (error) {
      if (error instanceof FakeAwsFailure)
        throw buildServiceError(service, error.code, error.message, requestId);
      throw error;
    }
  };

  const iamMock = mockClient(IAMClient);
  iamMock.callsFake((input: object) => {
    throw new Error(`fake-aws: IAM command not implemented (input ${JSON.stringify(input)})`);
  });
  for (const [name, handler] of Object.entries(handlers) as [string, IamHandler][]) {
    const CommandClass = (iamSdk as unknown as Record<string, Parameters<typeof iamMock.on>[0] | undefined>)[
      `${name}Command`
    ];
    if (!CommandClass) throw new Error(`fake-aws: no SDK command for ${name}`);
    iamMock
      .on(CommandClass)
      .callsFake((input: object) => dispatch('iam', name, input, () => handler(input as never)));
  }

  const stsMock = mockClient(STSClient);
  stsMock.callsFake((input: object) => {
    throw new Error(`fake-aws: STS command not implemented (input ${JSON.stringify(input)})`);
  });
  stsMock.on(GetCallerIdentityCommand).callsFake((input: object, getClient: () => STSClient | undefined) =>
    dispatch(
      'sts',
      'GetCallerIdentity',
      input,
      async () => {
        // A client built with credentials this fake issued acts as the assumed role.
        const credentials = await getClient()
          ?.config.credentials?.()
          .catch(() => undefined);
        const assumedArn = credentials ? issuedKeys.get(credentials.accessKeyId) : undefined;
        if (assumedArn)
          return { Account: account, Arn: assumedArn, UserId: `AROAFAKE:${assumedArn.split('/').pop()}` };
        if (options.noCredentials) throw buildNoCredentialsError();
        return { Account: account, Arn: callerArn, UserId: 'AIDAFAKEFAKEFAKEFAKE' };
      },
      false,
    ),
  );
  stsMock.on(GetAccessKeyInfoCommand).callsFake((input: { AccessKeyId?: string }) =>
    dispatch('sts', 'GetAccessKeyInfo', input, () => ({
      Account: accessKeyAccount(String(input.AccessKeyId ?? '')),
    })),
  );
  stsMock.on(AssumeRoleWithWebIdentityCommand).callsFake((input: AssumeRoleWithWebIdentityCall) =>
    dispatch(
      'sts',
      'AssumeRoleWithWebIdentity',
      input,
      () => {
        const roleName = input.RoleArn.split('/').pop() ?? '';
        let assumedRoleArn = `arn:${partition}:sts::${account}:assumed-role/${roleName}/${input.RoleSessionName}`;
        if (options.onAssumeRoleWithWebIdentity) {
          const result = options.onAssumeRoleWithWebIdentity(input, state);
          if (result?.assumedRoleArn) assumedRoleArn = result.assumedRoleArn;
        } else {
          const role = state.roles.get(roleName.toLowerCase());
          if (!role || role.arn !== input.RoleArn)
            fail('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
        }
        const accessKeyId = `ASIAFAKE${String(issuedKeys.size).padStart(12, '0')}`;
        issuedKeys.set(accessKeyId, assumedRoleArn);
        return {
          Credentials: {
            AccessKeyId: accessKeyId,
            SecretAccessKey: 'fake-assumed-secret',
            SessionToken: 'fake-session-token',
            Expiration: new Date(Date.now() + (input.DurationSeconds ?? 3600) * 1000),
          },
          AssumedRoleUser: { Arn: assumedRoleArn, AssumedRoleId: `AROAFAKE:${input.RoleSessionName}` },
        };
      },
      false,
    ),
  );

  const providerArn = (url: string) =>
    `arn:${partition}:iam::${account}:oidc-provider/${url.replace(/^https:\/\//, '').replace(/\/$/, '')}`;
  const roleArn = (name: string, path = '/') => `arn:${partition}:iam::${account}:role${path}${name}`;
  const policyArn = (name: string, path = '/') => `arn:${partition}:iam::${account}:policy${path}${name}`;

  const clientConfig = { region: 'us-east-1', credentials: FAKE_CREDENTIALS };
  const ports: AwsPorts = {
    iam: createIamPort(new IAMClient(clientConfig)),
    sts: createStsPort(new STSClient(clientConfig)),
  };

  return {
    state,
    account,
    partition,
    callerArn,
    iamMock,
    stsMock,
    ports,
    calls: () => recorded.map((c) => ({ ...c })),
    mutatingCalls: () => recorded.filter((c) => isMutating(c.command)).map((c) => c.command),
    failNext(command, code, message, { times = 1 } = {}) {
      const queue = failures.get(command) ?? [];
      for (let i = 0; i < times; i++) queue.push({ code, message: message ?? defaultMessageFor(code) });
      failures.set(command, queue);
    },
    failAfter(n, code = 'ServiceFailure', message) {
      failAfterState = { remaining: n, code, message: message ?? defaultMessageFor(code) };
    },
    addProvider({ url, clientIds = [], thumbprints = [], tags = {} }) {
      const arn = providerArn(url);
      state.providers.set(arn, {
        arn,
        url: url.replace(/^https:\/\//, '').replace(/\/$/, ''),
        clientIds: [...clientIds],
        thumbprints: [...thumbprints],
        tags: { ...tags },
        createDate: new Date(),
        createdAtCall: Number.NEGATIVE_INFINITY,
      });
      return arn;
    },
    addRole(input) {
      const path = input.path ?? '/';
      const role: FakeRole = {
        name: input.name,
        path,
        arn: roleArn(input.name, path),
        roleId: `AROASEED${input.name.toUpperCase().replace(/[^A-Z0-9]/g, '')}`,
        trustPolicy:
          typeof input.trustPolicy === 'string' ? input.trustPolicy : JSON.stringify(input.trustPolicy),
        maxSessionDuration: input.maxSessionDuration ?? 3600,
        description: input.description,
        permissionsBoundaryArn: input.permissionsBoundaryArn,
        tags: { ...input.tags },
        attachedPolicyArns: [...(input.attachedPolicyArns ?? [])],
        inlinePolicies: Object.fromEntries((input.inlinePolicyNames ?? []).map((n) => [n, '{}'])),
        createDate: new Date(),
        lastUsed: input.lastUsed,
      };
      state.roles.set(input.name.toLowerCase(), role);
      return role.arn;
    },
    addPolicy({ name, path = '/', document, tags = {}, awsManaged = false, olderVersions = [] }) {
      const arn = awsManaged ? `arn:${partition}:iam::aws:policy${path}${name}` : policyArn(name, path);
      const documents = [...olderVersions, document].map((d) => JSON.stringify(d));
      return insertPolicy(state, { arn, name, path, documents, tags }).arn;
    },
    addUser: (input) => insertUser(state, { account, partition }, input),
    addGroup: (input) => insertGroup(state, { account, partition }, input).arn,
    addAccessKey: (userName, input) => insertAccessKey(state, account, userName, input),
    foreignAccessKeyId: (other) => makeAccessKeyId(other),
    addInstanceProfile({ name, path = '/', roleNames = [] }) {
      const arn = `arn:${partition}:iam::${account}:instance-profile${path}${name}`;
      state.instanceProfiles.set(name.toLowerCase(), { name, path, arn, roles: [...roleNames] });
      return arn;
    },
    providerArn,
    roleArn,
    policyArn,
    restore() {
      iamMock.restore();
      stsMock.restore();
    },
  };
}
