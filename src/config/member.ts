/**
 * One project's settings from the config file (defaults < match globs < exact paths, see `schema.ts`),
 * turned into init's raw flags, with the config node that set each flag. Pure: no I/O.
 */
import { resolve } from 'node:path';
import picomatch from 'picomatch';
import type { RawInitFlags } from '../commands/init.js';
import type { ConfigPath } from './load.js';
import {
  type DeliveryMode,
  type FleetConfig,
  GLOB_OPTIONS,
  PER_PROJECT_PLACEHOLDERS,
  placeholdersIn,
  type RoleMode,
  type Settings,
} from './schema.js';

export type InitFlagKey = keyof RawInitFlags;

/** The config nodes that set each flag; for list and key=value flags, one node per element. */
export interface FlagOrigins {
  field: Partial<Record<InitFlagKey, ConfigPath>>;
  /** `branch`/`tag`/`managedPolicy`: the node of each element, in the flag's order. */
  elements: Partial<Record<InitFlagKey, ConfigPath[]>>;
}

export interface ConfigMemberSettings {
  flags: RawInitFlags;
  origins: FlagOrigins;
  delivery: DeliveryMode;
  role: RoleMode;
  /** Where `delivery` and `role` were set (undefined: the default). */
  deliveryOrigin?: ConfigPath | undefined;
  roleOrigin?: ConfigPath | undefined;
  /** Problems of the combination itself (a per-project placeholder with `role: per-group`). */
  problems: { path: ConfigPath; message: string; allowed?: string[] }[];
}

export interface Layer {
  path: ConfigPath;
  settings: Settings;
}

/**
 * The layers that apply to a project, lowest precedence first: defaults, then the `match` entries that
 * match it, then the `path` entries equal to it (each group in file order).
 */
export function layersFor(
  config: FleetConfig,
  projectPath: string,
  matchers = compileMatchers(config),
): Layer[] {
  const layers: Layer[] = [];
  if (config.defaults) layers.push({ path: ['defaults'], settings: config.defaults });
  const entries = config.projects ?? [];
  entries.forEach((entry, i) => {
    if (entry.match !== undefined && matchers[i]?.(projectPath))
      layers.push({ path: ['projects', i], settings: entry });
  });
  const lower = projectPath.toLowerCase();
  entries.forEach((entry, i) => {
    if (entry.path !== undefined && entry.path.trim().toLowerCase() === lower) {
      layers.push({ path: ['projects', i], settings: entry });
    }
  });
  return layers;
}

/** One matcher per `projects` entry (undefined for a `path` entry); compile once per config. */
export function compileMatchers(config: FleetConfig): (((path: string) => boolean) | undefined)[] {
  return (config.projects ?? []).map((e) =>
    e.match === undefined ? undefined : picomatch(e.match, GLOB_OPTIONS),
  );
}

/** Expands a role name pattern for a project; characters IAM refuses in a role name become `-`. */
export function expandRoleName(pattern: string, projectPath: string): string {
  const segments = projectPath.split('/');
  const values: Record<string, string> = {
    path: segments.join('-'),
    group: segments.slice(0, -1).join('-'),
    project: segments[segments.length - 1] ?? '',
  };
  return pattern
    .replace(/\{(group|project|path)\}/g, (_, name: string) => values[name] ?? '')
    .replace(/[^\w+=,.@-]/g, '-');
}

/** The role name of a per-group role when the config names none: one role per namespace. */
export const PER_GROUP_ROLE_NAME = 'gitlab-{group}';

/** Merges the layers for `projectPath` into init's raw flags, remembering which node set each one. */
export function settingsForProject(
  config: FleetConfig,
  projectPath: string,
  options: {
    configDir: string;
    matchers?: ReturnType<typeof compileMatchers>;
    /** Instead of the layers that match the path (to check one entry over the defaults). */
    layers?: Layer[];
  },
): ConfigMemberSettings {
  const layers = options.layers ?? layersFor(config, projectPath, options.matchers);
  const last: Partial<Record<keyof Settings, Layer>> = {};
  const tags: Record<string, { value: string; path: ConfigPath }> = {};
  for (const layer of layers) {
    for (const key of Object.keys(layer.settings) as (keyof Settings)[]) {
      if (layer.settings[key] === undefined || key === ('path' as never) || key === ('match' as never))
        continue;
      last[key] = layer;
    }
    for (const [key, value] of Object.entries(layer.settings.tags ?? {})) {
      tags[key] = { value, path: [...layer.path, 'tags', key] };
    }
  }
  const value = <K extends keyof Settings>(key: K): Settings[K] => last[key]?.settings[key];
  const at = (key: keyof Settings, ...rest: (string | number)[]): ConfigPath | undefined => {
    const layer = last[key];
    return layer ? [...layer.path, key, ...rest] : undefined;
  };

  const flags: RawInitFlags = { project: projectPath, ciFile: false };
  const origins: FlagOrigins = { field: {}, elements: {} };
  const set = <K extends InitFlagKey>(
    flag: K,
    v: RawInitFlags[K] | undefined,
    path: ConfigPath | undefined,
  ) => {
    if (v === undefined || path === undefined) return;
    flags[flag] = v;
    origins.field[flag] = path;
  };
  const list = (
    flag: 'branch' | 'tag' | 'managedPolicy',
    values: string[] | undefined,
    path: ConfigPath | undefined,
  ) => {
    if (values === undefined || path === undefined) return;
    set(flag, values, path);
    origins.elements[flag] = values.map((_, i) => [...path, i]);
  };

  if (config.gitlabUrl !== undefined) set('gitlabUrl', config.gitlabUrl, ['gitlabUrl']);
  const refs = value('refs');
  list('branch', refs?.branches, refs?.branches && at('refs', 'branches'));
  list('tag', refs?.tags, refs?.tags && at('refs', 'tags'));
  set(
    'allowAnyRef',
    refs?.allowAnyRef,
    refs?.allowAnyRef === undefined ? undefined : at('refs', 'allowAnyRef'),
  );
  set('audience', value('audience'), at('audience'));
  set('protectedOnly', value('protectedOnly'), at('protectedOnly'));
  const permissions = value('permissions');
  if (permissions) {
    list('managedPolicy', permissions.managedPolicies, at('permissions', 'managedPolicies'));
    set(
      'policyFile',
      permissions.policyFile === undefined ? undefined : resolve(options.configDir, permissions.policyFile),
      at('permissions', 'policyFile'),
    );
    set('template', permissions.template, at('permissions', 'template'));
    if (permissions.params) {
      const params = Object.entries(permissions.params);
      set(
        'templateParam',
        params.map(([k, v]) => `${k}=${v}`),
        at('permissions', 'params'),
      );
      origins.elements.templateParam = params.map(([k]) => at('permissions', 'params', k) as ConfigPath);
    }
  }
  const role: RoleMode = value('role') ?? 'per-project';
  const pattern = value('roleName') ?? (role === 'per-group' ? PER_GROUP_ROLE_NAME : undefined);
  if (pattern !== undefined) {
    // Without a roleName, a per-group role is named after the group; the `role` node set it.
    set('roleName', expandRoleName(pattern, projectPath), at('roleName') ?? at('role'));
  }
  set('rolePath', value('rolePath'), at('rolePath'));
  set('permissionsBoundary', value('boundary'), at('boundary'));
  const seconds = value('maxSessionDuration');
  set('maxSessionDuration', seconds === undefined ? undefined : String(seconds), at('maxSessionDuration'));
  const tagEntries = Object.entries(tags);
  if (tagEntries.length) {
    flags.awsTag = tagEntries.map(([k, t]) => `${k}=${t.value}`);
    origins.field.awsTag = tagEntries[tagEntries.length - 1]?.[1].path.slice(0, -1) as ConfigPath;
    origins.elements.awsTag = tagEntries.map(([, t]) => t.path);
  }
  set('region', value('region'), at('region'));

  const problems: ConfigMemberSettings['problems'] = [];
  const perProject = value('roleName')
    ? placeholdersIn(value('roleName') as string).filter((p) =>
        (PER_PROJECT_PLACEHOLDERS as readonly string[]).includes(p),
      )
    : [];
  if (role === 'per-group' && perProject.length) {
    problems.push({
      path: at('roleName') as ConfigPath,
      message: `uses {${perProject.join('}, {')}} but role is per-group (set at ${describePath(at('role'))}): one role serves every project of the group`,
      allowed: ['{group}', 'literal text'],
    });
  }
  return {
    flags,
    origins,
    // Nothing is delivered unless the file says how: a merge request needs a token with the api scope.
    delivery: value('delivery') ?? 'none',
    role,
    deliveryOrigin: at('delivery'),
    roleOrigin: at('role'),
    problems,
  };
}

function describePath(path: ConfigPath | undefined): string {
  if (!path) return 'the default';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('');
}
