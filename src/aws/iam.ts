/**
 * The IamPort over an SDK `IAMClient`. Imported only by `factory.ts` (and tests, which pass a
 * client whose `send` is mocked with aws-sdk-client-mock).
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import { createAccountMethods } from './iam-account.js';
import { createPolicyMethods } from './iam-policies.js';
import { createProviderMethods } from './iam-providers.js';
import { createRoleMethods } from './iam-roles.js';
import { createUserMethods } from './iam-users.js';
import type { IamPort } from './ports.js';

export function createIamPort(client: IAMClient): IamPort {
  return {
    ...createProviderMethods(client),
    ...createRoleMethods(client),
    ...createPolicyMethods(client),
    ...createAccountMethods(client),
    ...createUserMethods(client),
  };
}
