import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseGitRemote, redactRemoteUrl } from '../../src/gitlab/remote.js';

interface Row {
  url: string;
  host: string;
  projectPath: string;
  gitlabUrl: string;
  port?: string;
  protocol: 'https' | 'http' | 'ssh';
  warning?: RegExp;
}

const rows: Row[] = [
  {
    url: 'https://gitlab.com/acme/api.git',
    protocol: 'https',
    host: 'gitlab.com',
    projectPath: 'acme/api',
    gitlabUrl: 'https://gitlab.com',
  },
  {
    url: 'https://gitlab.com/acme/api',
    protocol: 'https',
    host: 'gitlab.com',
    projectPath: 'acme/api',
    gitlabUrl: 'https://gitlab.com',
  },
  {
    url: 'https://gitlab.com/acme/api/',
    protocol: 'https',
    host: 'gitlab.com',
    projectPath: 'acme/api',
    gitlabUrl: 'https://gitlab.com',
  },
  {
    url: 'https://gitlab.com/acme/platform/team/api.git',
    protocol: 'https',
    host: 'gitlab.com',
    projectPath: 'acme/platform/team/api',
    gitlabUrl: 'https://gitlab.com',
  },
  {
    url: 'https://oauth2:glpat-SECRET123@gitlab.example.com/acme/api.git',
    protocol: 'https',
    host: 'gitlab.example.com',
    projectPath: 'acme/api',
    gitlabUrl: 'https://gitlab.example.com',
  },
  {
    url: 'https://jdoe@gitlab.example.com/acme/api.git',
    protocol: 'https',
    host: 'gitlab.example.com',
    projectPath: 'acme/api',
    gitlabUrl: 'https://gitlab.example.com',
  },
  {
    url: 'https://GitLab.Example.COM/Acme/API.git',
    protocol: 'https',
    host: 'gitlab.example.com',
    projectPath: 'Acme/API',
    gitlabUrl: 'https://gitlab.example.com',
  },
  {
    url: 'https://gitlab.example.com:8443/acme/api.git',
    protocol: 'https',
    host: 'gitlab.example.com',
    port: '8443',
    projectPath: 'acme/api',
    gitlabUrl: 'https://gitlab.example.com:8443',
    warning: /port 8443.*cannot carry a port/,
  },
  {
    url: 'http://gitlab.internal/acme/api.git',
    protocol: 'http',
    host: 'gitlab.internal',
    projectPath: 'acme/api',
    gitlabUrl: 'https://gitlab.internal',
    warning: /plain http/,
  },
  {
    url: 'https://host.example/gitlab/acme/api.git',
    protocol: 'https',
    host: 'host.example',
    projectPath: 'gitlab/acme/api',
    gitlabUrl: 'https://host.example',
  },
  {
    url: 'ssh://git@gitlab.com/acme/api.git',
    protocol: 'ssh',
    host: 'gitlab.com',
    projectPath: 'acme/api',
    gitlabUrl: 'https://gitlab.com',
  },
  {
    url: 'ssh://git@gitlab.example.com:2222/acme/sub/api.git',
    protocol: 'ssh',
    host: 'gitlab.example.com',
    port: '2222',
    projectPath: 'acme/sub/api',
    gitlabUrl: 'https://gitlab.example.com',
  },
  {
    url: 'git+ssh://git@gitlab.example.com/acme/api',
    protocol: 'ssh',
    host: 'gitlab.example.com',
    projectPath: 'acme/api',
    gitlabUrl: 'https://gitlab.example.com',
  },
  {
    url: 'git@gitlab.com:acme/api.git',
    protocol: 'ssh',
    host: 'gitlab.com',
    projectPath: 'acme/api',
    gitlabUrl: 'https://gitlab.com',
  },
  {
    url: 'git@gitlab.example.com:acme/platform/team/api',
    protocol: 'ssh',
    host: 'gitlab.example.com',
    projectPath: 'acme/platform/team/api',
    gitlabUrl: 'https://gitlab.example.com',
  },
  {
    url: 'gitlab.example.com:acme/api.git',
    protocol: 'ssh',
    host: 'gitlab.example.com',
    projectPath: 'acme/api',
    gitlabUrl: 'https://gitlab.example.com',
  },
  {
    url: 'git@gitlab.example.com:2222/acme/api.git',
    protocol: 'ssh',
    host: 'gitlab.example.com',
    projectPath: '2222/acme/api',
    gitlabUrl: 'https://gitlab.example.com',
    warning: /read as a group, not a port.*ssh:\/\/git@gitlab\.example\.com:2222/,
  },
  {
    url: '  git@gitlab.com:acme/api.git\n',
    protocol: 'ssh',
    host: 'gitlab.com',
    projectPath: 'acme/api',
    gitlabUrl: 'https://gitlab.com',
  },
  {
    url: 'https://gitlab.com/acme/my%20api.git',
    protocol: 'https',
    host: 'gitlab.com',
    projectPath: 'acme/my api',
    gitlabUrl: 'https://gitlab.com',
  },
];

describe('parseGitRemote', () => {
  it.each(rows)('$url', (row) => {
    const parsed = parseGitRemote(row.url);
    expect(parsed.protocol).toBe(row.protocol);
    expect(parsed.host).toBe(row.host);
    expect(parsed.port).toBe(row.port);
    expect(parsed.projectPath).toBe(row.projectPath);
    expect(parsed.gitlabUrl).toBe(row.gitlabUrl);
    if (row.warning) expect(parsed.warning).toMatch(row.warning);
    else expect(parsed.warning).toBeUndefined();
  });

  it('never returns the credentials of an https remote', () => {
    const parsed = parseGitRemote('https://oauth2:glpat-SECRET123@gitlab.example.com/acme/api.git');
    expect(JSON.stringify(parsed)).not.toContain('SECRET123');
    expect(JSON.stringify(parsed)).not.toContain('oauth2');
  });

  it('strips a relative URL root when told about it (https and ssh)', () => {
    expect(
      parseGitRemote('https://host.example/gitlab/acme/api.git', { relativeUrlRoot: '/gitlab' }),
    ).toMatchObject({
      projectPath: 'acme/api',
      gitlabUrl: 'https://host.example/gitlab',
    });
    expect(parseGitRemote('git@host.example:acme/api.git', { relativeUrlRoot: 'gitlab/' })).toMatchObject({
      projectPath: 'acme/api',
      gitlabUrl: 'https://host.example/gitlab',
    });
    expect(() => parseGitRemote('https://host.example/acme/api.git', { relativeUrlRoot: '/gitlab' })).toThrow(
      /relative URL root \/gitlab/,
    );
  });

  it.each([
    ['/srv/git/api.git'],
    ['file:///srv/git/acme/api.git'],
    ['https://gitlab.com/api.git'],
    ['git@gitlab.com:api.git'],
    ['https://gitlab.com/'],
    ['https://gitlab.com/acme/../api.git'],
    ['not a url'],
  ])('rejects %s with a usage error', (url) => {
    expect(() => parseGitRemote(url)).toThrow(UsageError);
  });

  it('does not echo a token in the error message', () => {
    let caught: unknown;
    try {
      parseGitRemote('https://oauth2:glpat-SECRET123@gitlab.example.com/api.git');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    const err = caught as UsageError;
    expect(err.message).toContain('https://***@gitlab.example.com/api.git');
    expect(JSON.stringify(err.toJSON())).not.toContain('SECRET123');
  });
});

describe('redactRemoteUrl', () => {
  it('replaces user info and leaves other URLs alone', () => {
    expect(redactRemoteUrl('https://u:p@h/a/b.git')).toBe('https://***@h/a/b.git');
    expect(redactRemoteUrl('https://h/a@b/c.git')).toBe('https://h/a@b/c.git');
    expect(redactRemoteUrl('git@h:a/b.git')).toBe('git@h:a/b.git');
  });
});
