/**
 * The IamPort's user and access key methods against the in-memory IAM: real error shapes, what
 * counts as done, and the key ID never in an error message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';

let fake: FakeAws;
afterEach(() => fake.restore());

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: { awsCode?: string; message: string; exitCode?: number }) => e,
  );

describe('IamPort users and access keys', () => {
  it('updateAccessKey deactivates; a key that is gone is NoSuchEntity, its ID masked in the message', async () => {
    fake = createFakeAws();
    fake.addUser({ name: 'bot' });
    const key = fake.addAccessKey('bot');
    await fake.ports.iam.updateAccessKey('bot', key.accessKeyId, 'Inactive');
    expect(fake.state.users.get('bot')?.accessKeys[0]?.status).toBe('Inactive');
    fake.state.users.get('bot')!.accessKeys = [];
    const error = await failure(fake.ports.iam.updateAccessKey('bot', key.accessKeyId, 'Inactive'));
    expect(error).toMatchObject({ awsCode: 'NoSuchEntity', exitCode: 1 });
    expect(error?.message).not.toContain(key.accessKeyId);
  });

  it('deleteAccessKey: gone counts as done; throttling and refusals are errors', async () => {
    fake = createFakeAws();
    fake.addUser({ name: 'bot' });
    const key = fake.addAccessKey('bot');
    fake.failNext('DeleteAccessKey', 'AccessDenied');
    expect(await failure(fake.ports.iam.deleteAccessKey('bot', key.accessKeyId))).toMatchObject({
      awsCode: 'AccessDenied',
    });
    await fake.ports.iam.deleteAccessKey('bot', key.accessKeyId);
    expect(fake.state.users.get('bot')?.accessKeys).toEqual([]);
    await fake.ports.iam.deleteAccessKey('bot', key.accessKeyId);
    expect(fake.mutatingCalls()).toEqual(['DeleteAccessKey', 'DeleteAccessKey', 'DeleteAccessKey']);
  });

  it('tagUser / listUserTags (all pages) / untagUser; the 51st tag is LimitExceeded; untagging a user that is gone is done', async () => {
    fake = createFakeAws({ pageSize: 2 });
    fake.addUser({ name: 'bot', tags: { team: 'a', owner: 'b', cost: 'c' } });
    await fake.ports.iam.tagUser('bot', {
      'gitlab-aws-oidc:deactivated:ABCDEFGH': '2026-12-01T00:00:00.000Z',
    });
    expect(await fake.ports.iam.listUserTags('bot')).toEqual({
      team: 'a',
      owner: 'b',
      cost: 'c',
      'gitlab-aws-oidc:deactivated:ABCDEFGH': '2026-12-01T00:00:00.000Z',
    });
    await fake.ports.iam.untagUser('bot', ['gitlab-aws-oidc:deactivated:ABCDEFGH']);
    expect(Object.keys(await fake.ports.iam.listUserTags('bot'))).toEqual(['team', 'owner', 'cost']);
    const many = Object.fromEntries(Array.from({ length: 47 }, (_, i) => [`t${i}`, 'v']));
    await fake.ports.iam.tagUser('bot', many);
    expect(await failure(fake.ports.iam.tagUser('bot', { one: 'more' }))).toMatchObject({
      awsCode: 'LimitExceeded',
    });
    await fake.ports.iam.untagUser('nobody', ['x']);
    expect(await failure(fake.ports.iam.tagUser('nobody', { x: 'y' }))).toMatchObject({
      awsCode: 'NoSuchEntity',
    });
  });
});
