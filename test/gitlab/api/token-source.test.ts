/**
 * Where the GitLab token comes from (glab's order), with glab config files in temp dirs, and the
 * GitLab API flags' validation. The token never appears in an error.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { lazyGitlabPort } from '../../../src/gitlab/api/lazy-port.js';
import {
  gitlabTokenHint,
  glabConfigCandidates,
  resolveGitlabToken,
} from '../../../src/gitlab/api/token-source.js';
import {
  parseGitlabApiUrl,
  resolveGitlabApiBase,
  validateTokenEnvName,
} from '../../../src/options/gitlab-api.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'gao-glab-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function writeConfig(dir: string, yaml: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'config.yml');
  writeFileSync(path, yaml);
  return path;
}

const HOSTS = (host: string, token?: string, extra = '') =>
  `git_protocol: ssh\nhosts:\n  ${host}:\n    api_protocol: https\n${token ? `    token: ${token}\n` : ''}${extra}`;

describe('resolveGitlabToken', () => {
  const home = () => tempDir();

  it.each([
    [
      'GITLAB_TOKEN first',
      { GITLAB_TOKEN: 'a', GITLAB_ACCESS_TOKEN: 'b', OAUTH_TOKEN: 'c' },
      'a',
      'GITLAB_TOKEN',
      'private-token',
    ],
    [
      'then GITLAB_ACCESS_TOKEN',
      { GITLAB_TOKEN: ' ', GITLAB_ACCESS_TOKEN: 'b', OAUTH_TOKEN: 'c' },
      'b',
      'GITLAB_ACCESS_TOKEN',
      'private-token',
    ],
    ['then OAUTH_TOKEN (sent as Bearer)', { OAUTH_TOKEN: 'c' }, 'c', 'OAUTH_TOKEN', 'oauth'],
  ])('%s', (_name, env, token, source, kind) => {
    expect(resolveGitlabToken({ env, host: 'gitlab.com', homedir: home() })).toEqual({ token, source, kind });
  });

  it('--gitlab-token-env names the variable and wins over GITLAB_TOKEN', () => {
    const r = resolveGitlabToken({
      flagEnvName: 'CI_API_TOKEN',
      env: { CI_API_TOKEN: ' t1 ', GITLAB_TOKEN: 't2' },
      host: 'gitlab.com',
      homedir: home(),
    });
    expect(r).toEqual({ token: 't1', source: '--gitlab-token-env CI_API_TOKEN', kind: 'private-token' });
  });

  it.each([
    ['unset', {}, /CI_API_TOKEN is not set/],
    ['empty', { CI_API_TOKEN: '  ' }, /CI_API_TOKEN is empty/],
  ])('--gitlab-token-env with the variable %s is a usage error naming both', (_n, env, message) => {
    let error: unknown;
    try {
      resolveGitlabToken({
        flagEnvName: 'CI_API_TOKEN',
        env: { GITLAB_TOKEN: 'x', ...env },
        host: 'gitlab.com',
        homedir: home(),
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as UsageError).issues[0]).toMatchObject({
      field: '--gitlab-token-env',
      message: expect.stringMatching(message),
    });
  });

  it('a token given as the --gitlab-token-env name is refused without being echoed', () => {
    let error: unknown;
    try {
      resolveGitlabToken({ flagEnvName: 'glpat-xyz.123', env: {}, host: 'gitlab.com', homedir: home() });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect(JSON.stringify([(error as UsageError).message, (error as UsageError).toJSON()])).not.toContain(
      'glpat-xyz',
    );
  });

  it('glab config: $GLAB_CONFIG_DIR, then ~/.config/glab-cli, then $XDG_CONFIG_HOME/glab-cli', () => {
    const h = home();
    const glabDir = join(tempDir(), 'glab');
    const xdg = tempDir();
    expect(glabConfigCandidates({ GLAB_CONFIG_DIR: glabDir, XDG_CONFIG_HOME: xdg }, h)).toEqual([
      join(glabDir, 'config.yml'),
      join(h, '.config', 'glab-cli', 'config.yml'),
      join(xdg, 'glab-cli', 'config.yml'),
    ]);
    const xdgPath = writeConfig(join(xdg, 'glab-cli'), HOSTS('gitlab.com', 'from-xdg'));
    expect(resolveGitlabToken({ env: { XDG_CONFIG_HOME: xdg }, host: 'gitlab.com', homedir: h })).toEqual({
      token: 'from-xdg',
      source: `glab config (${xdgPath}, host gitlab.com)`,
      kind: 'private-token',
    });
    writeConfig(join(h, '.config', 'glab-cli'), HOSTS('gitlab.com', 'from-home'));
    expect(resolveGitlabToken({ env: { XDG_CONFIG_HOME: xdg }, host: 'gitlab.com', homedir: h })?.token).toBe(
      'from-home',
    );
    writeConfig(glabDir, HOSTS('gitlab.com', 'from-glab-dir'));
    expect(
      resolveGitlabToken({
        env: { GLAB_CONFIG_DIR: glabDir, XDG_CONFIG_HOME: xdg },
        host: 'gitlab.com',
        homedir: h,
      })?.token,
    ).toBe('from-glab-dir');
    // an environment variable still wins over every file
    expect(
      resolveGitlabToken({
        env: { GLAB_CONFIG_DIR: glabDir, GITLAB_TOKEN: 'env' },
        host: 'gitlab.com',
        homedir: h,
      })?.token,
    ).toBe('env');
  });

  it('glab config is per host (case-insensitive); an OAuth login is sent as Bearer', () => {
    const h = home();
    writeConfig(
      join(h, '.config', 'glab-cli'),
      `hosts:\n  gitlab.com:\n    token: com-token\n  Gitlab.Example.com:\n    token: ex-token\n    is_oauth2: "true"\n`,
    );
    expect(resolveGitlabToken({ env: {}, host: 'gitlab.example.com', homedir: h })).toMatchObject({
      token: 'ex-token',
      kind: 'oauth',
    });
    expect(resolveGitlabToken({ env: {}, host: 'gitlab.com', homedir: h })).toMatchObject({
      token: 'com-token',
      kind: 'private-token',
    });
    expect(resolveGitlabToken({ env: {}, host: 'other.example', homedir: h })).toBeUndefined();
  });

  it('no token anywhere: undefined (anonymous); a host kept in the keyring gets a hint saying so', () => {
    const h = home();
    expect(resolveGitlabToken({ env: {}, host: 'gitlab.com', homedir: h })).toBeUndefined();
    expect(gitlabTokenHint({ env: {}, host: 'gitlab.com', homedir: h })).toMatch(/^Set GITLAB_TOKEN/);
    writeConfig(join(h, '.config', 'glab-cli'), HOSTS('gitlab.com', undefined, '    user: me\n'));
    expect(resolveGitlabToken({ env: {}, host: 'gitlab.com', homedir: h })).toBeUndefined();
    expect(gitlabTokenHint({ env: {}, host: 'gitlab.com', homedir: h })).toMatch(
      /keeps the token in the OS keyring/,
    );
  });

  it('a broken glab config is not fatal: the run is anonymous', () => {
    const h = home();
    writeConfig(join(h, '.config', 'glab-cli'), 'hosts: [unclosed\n  : :');
    expect(resolveGitlabToken({ env: {}, host: 'gitlab.com', homedir: h })).toBeUndefined();
  });
});

describe('GitLab API flags', () => {
  it.each([
    ['https://gitlab-api.example.com/', 'https://gitlab-api.example.com'],
    ['https://Gitlab.Example.com:8443/gitlab/api/v4', 'https://gitlab.example.com:8443/gitlab'],
    ['http://127.0.0.1:9999', 'http://127.0.0.1:9999'],
    ['http://localhost:8080/', 'http://localhost:8080'],
  ])('--gitlab-api-url %s → %s', (raw, normal) => {
    expect(parseGitlabApiUrl(raw)).toBe(normal);
  });

  it.each([
    ['http://gitlab.example.com', /plain http/],
    ['ftp://gitlab.example.com', /must use https/],
    ['https://user:pw@gitlab.example.com', /credentials/],
    ['https://gitlab.example.com/?private_token=x', /query or fragment/],
    ['gitlab.example.com', /not a URL/],
  ])('--gitlab-api-url %s is refused, naming the flag', (raw, message) => {
    let error: unknown;
    try {
      parseGitlabApiUrl(raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).issues[0]).toMatchObject({
      field: '--gitlab-api-url',
      message: expect.stringMatching(message),
    });
  });

  it('the API base defaults to the GitLab URL', () => {
    expect(resolveGitlabApiBase('https://gitlab.com')).toBe('https://gitlab.com');
    expect(resolveGitlabApiBase('https://gitlab.com', 'https://127.0.0.1:4443')).toBe(
      'https://127.0.0.1:4443',
    );
  });

  it('--gitlab-token-env takes a variable name; a pasted token is refused without being echoed', () => {
    expect(validateTokenEnvName(' CI_API_TOKEN ')).toBe('CI_API_TOKEN');
    let error: unknown;
    try {
      validateTokenEnvName('glpat-abc.def');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect(JSON.stringify((error as UsageError).toJSON())).not.toContain('glpat-abc');
  });

  it('lazyGitlabPort resolves the token up front and does not load the client until called', async () => {
    const lazy = lazyGitlabPort({
      gitlabUrl: 'https://gitlab.com',
      gitlabApiUrl: 'http://127.0.0.1:9',
      env: { GITLAB_TOKEN: 'secret-abc' },
      homedir: tempDir(),
      signal: undefined,
    });
    expect(lazy.authenticated).toBe(true);
    expect(lazy.tokenSource).toBe('GITLAB_TOKEN');
    expect(lazy.apiBase).toBe('http://127.0.0.1:9');
    expect(JSON.stringify({ ...lazy })).not.toContain('secret-abc');
    const port = await lazy();
    expect(port).toBe(await lazy());
    expect(port.baseUrl).toBe('http://127.0.0.1:9');
    expect(() =>
      lazyGitlabPort({
        gitlabUrl: 'https://gitlab.com',
        gitlabTokenEnv: 'NOPE',
        env: {},
        homedir: tempDir(),
        signal: undefined,
      }),
    ).toThrow(UsageError);
  });
});
