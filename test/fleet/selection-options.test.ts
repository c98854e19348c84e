import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerAudit } from '../../src/commands/audit.js';
import { registerDestroy } from '../../src/commands/destroy.js';
import type { RawInitFlags } from '../../src/commands/init.js';
import { registerInit } from '../../src/commands/init.js';
import { registerStatus } from '../../src/commands/status.js';
import {
  addSelectionOptions,
  parseSelectionFlags,
  type RawSelectionFlags,
} from '../../src/fleet/selection-options.js';
import { captureContext } from '../helpers/capture-context.js';
import { usageError } from '../helpers/usage-error.js';

/** argv → raw flags the way a command that registers the selection options gets them. */
function argv(...args: string[]): RawSelectionFlags {
  const program = new Command().exitOverride();
  let flags: RawSelectionFlags = {};
  addSelectionOptions(program.command('x').option('--project <path>')).action((f: RawSelectionFlags) => {
    flags = f;
  });
  program.parse(['node', 'cli', 'x', ...args]);
  return flags;
}

describe('selection options: argv → Selection', () => {
  const ok: [string[], unknown][] = [
    [[], { kind: 'project', project: undefined }],
    [['--project', ' acme/app '], { kind: 'project', project: 'acme/app' }],
    [['--group', 'acme'], { kind: 'group', group: 'acme', include: [], exclude: [] }],
    [
      ['--group', 'acme/sub', '--include', 'acme/sub/**', '--include', 'x/*', '--exclude', '**/legacy-*'],
      { kind: 'group', group: 'acme/sub', include: ['acme/sub/**', 'x/*'], exclude: ['**/legacy-*'] },
    ],
    [['--config', 'fleet.yml'], { kind: 'config', file: 'fleet.yml', include: [], exclude: [] }],
    [
      ['--config', 'fleet.yml', '--exclude', 'acme/tmp/**'],
      { kind: 'config', file: 'fleet.yml', include: [], exclude: ['acme/tmp/**'] },
    ],
  ];
  for (const [args, expected] of ok) {
    it(args.join(' ') || '(nothing)', () => {
      expect(parseSelectionFlags(argv(...args))).toEqual(expected);
    });
  }

  const bad: [string[], string, RegExp][] = [
    [
      ['--project', 'a/b', '--group', 'acme'],
      '--group',
      /give one of --project, --group or --config, not --project and --group/,
    ],
    [['--group', 'acme', '--config', 'f.yml'], '--config', /not --group and --config/],
    [['--include', 'a/*'], '--include', /only goes with --group or --config/],
    [['--project', 'a/b', '--exclude', 'a/*'], '--exclude', /only goes with --group or --config/],
    [['--group', 'acme/'], '--group', /must not start or end with "\/"/],
    [['--group', 'acme/*'], '--group', /contains a wildcard; a group path must be literal/],
    [['--group', 'https://gitlab.com/acme'], '--group', /./],
    [['--group', 'acme', '--include', ' '], '--include', /must not be empty/],
    [['--project', 'app'], '--project', /has no group/],
    [['--config', ' '], '--config', /must name a file/],
  ];
  for (const [args, field, message] of bad) {
    it(`refuses ${args.join(' ')} naming ${field}`, () => {
      const error = usageError(() => parseSelectionFlags(argv(...args)));
      expect(error.exitCode).toBe(2);
      const issue = error.issues.find((i) => i.field === field || i.field.startsWith(`${field} [`));
      expect(issue?.message).toMatch(message);
    });
  }

  it('registers the flags with help text that says * vs **', () => {
    const cmd = addSelectionOptions(new Command('x'));
    const help = cmd.helpInformation();
    for (const flag of ['--group <path>', '--include <glob>', '--exclude <glob>', '--config <file>']) {
      expect(help).toContain(flag);
    }
    expect(help.replace(/\s+/g, ' ')).toContain('(* = one segment, ** = any depth)');
  });
});

describe('selection options on the real commands', () => {
  for (const [name, register] of [
    ['init', registerInit],
    ['status', registerStatus],
    ['destroy', registerDestroy],
    ['audit', registerAudit],
  ] as const) {
    it(`${name}: registers next to its own flags (no clash) and parses beside them`, () => {
      const program = new Command().exitOverride();
      register(program, captureContext().context);
      const cmd = program.commands.find((c) => c.name() === name) as Command;
      // Every one of them registers them itself (no clash with its own flags).
      expect(cmd.options.map((o) => o.long)).toEqual(
        expect.arrayContaining(['--group', '--include', '--exclude', '--config']),
      );
      let flags: Record<string, unknown> = {};
      cmd.action((f: Record<string, unknown>) => {
        flags = f;
      });
      program.parse(['node', 'cli', name, '--group', 'acme', '--exclude', 'acme/tmp/**']);
      expect(parseSelectionFlags(flags)).toEqual({
        kind: 'group',
        group: 'acme',
        include: [],
        exclude: ['acme/tmp/**'],
      });
    });
  }

  it("init: the rest of the flags are init's raw flags for every member", () => {
    const program = new Command().exitOverride();
    registerInit(program, captureContext().context);
    const cmd = program.commands[0] as Command;
    let flags: RawInitFlags & RawSelectionFlags = {};
    cmd.action((f: RawInitFlags & RawSelectionFlags) => {
      flags = f;
    });
    program.parse(['node', 'cli', 'init', '--config', 'fleet.yml', '--yes', '--dry-run']);
    const { group, include, exclude, config, ...rest } = flags;
    expect(parseSelectionFlags({ group, include, exclude, config })).toMatchObject({
      kind: 'config',
    });
    expect(rest).toEqual({ yes: true, dryRun: true });
  });
});
