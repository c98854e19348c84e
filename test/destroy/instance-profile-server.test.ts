/**
 * The instance-profile calls destroy makes (issue 7, defect 8), through real SDK serialisation against the
 * loopback Query-protocol IAM: its own file, since fake-aws.ts mocks every IAMClient in the file it runs in.
 */
import { describe, expect, it } from 'vitest';
import { createServerPorts, startIamServer } from '../helpers/iam-server.js';

describe('instance profiles over the loopback Query server (real SDK serialisation)', () => {
  it('creates, lists, refuses DeleteRole with DeleteConflict, removes, then deletes', async () => {
    const server = await startIamServer();
    try {
      const { iam } = createServerPorts(server);
      await iam.createRole({
        name: 'r',
        path: '/',
        description: 'x',
        trustPolicy: { Version: '2012-10-17', Statement: [] },
        maxSessionDuration: 3600,
        tags: {},
      } as Parameters<typeof iam.createRole>[0]);
      server.state.instanceProfiles.set('p', {
        name: 'p',
        path: '/ec2/',
        arn: `arn:aws:iam::${server.account}:instance-profile/ec2/p`,
        roles: ['r'],
      });
      expect(await iam.listInstanceProfilesForRole('r')).toEqual([
        { name: 'p', path: '/ec2/', arn: `arn:aws:iam::${server.account}:instance-profile/ec2/p` },
      ]);
      await expect(iam.deleteRole('r')).rejects.toMatchObject({ awsCode: 'DeleteConflict' });
      await iam.removeRoleFromInstanceProfile('p', 'r');
      expect(await iam.listInstanceProfilesForRole('r')).toEqual([]);
      await iam.deleteRole('r');
      expect(await iam.listInstanceProfilesForRole('r')).toEqual([]);
      expect(server.mutating()).toEqual([
        'CreateRole',
        'DeleteRole',
        'RemoveRoleFromInstanceProfile',
        'DeleteRole',
      ]);
    } finally {
      await server.close();
    }
  });
});
