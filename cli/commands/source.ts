/**
 * `statcache source [--json]`: the active source profile (STATCACHE_SOURCE) and how the database
 * matches it: every table and column with its type, the content type a generic tag-link table
 * needs, and the indexes statcache relies on. Exit 1 when statcache cannot run on it.
 */
import type { Command } from 'commander';
import { describeTarget } from '../../src/errors/connection-errors.js';
import { checkSource, type SourceCheck } from '../../src/source/check-source.js';
import type { SourceProfile } from '../../src/source/source-profile.js';
import { EXIT_FAILURE, setExitCode } from '../exit-codes.js';
import { printJson, printLine, printTable } from '../output.js';
import { runCommand } from '../run-command.js';

export function registerSource(program: Command): void {
  program
    .command('source')
    .description('print the source profile (STATCACHE_SOURCE) and check the database against it')
    .option('--json', 'print one JSON document')
    .action((options: { json?: boolean }) =>
      runCommand({ json: options.json, skipSchemaCheck: true }, async ({ db, config, json }) => {
        const check = await checkSource(db, config.source);
        if (json) printJson({ profile: config.source, ...check });
        else printCheck(config.source, check, describeTarget(config.databaseUrl));
        return check.ok ? 0 : EXIT_FAILURE;
      }).then(setExitCode),
    );
}

function printCheck(profile: SourceProfile, check: SourceCheck, target: string): void {
  printLine(
    `source profile: ${profile.name} (${profile.origin}), schema ${profile.schema}, checked against ${target}`,
  );
  printLine();
  printTable(
    ['key', 'table', 'column', 'needs', 'type', 'status'],
    check.columns.map((c) => [c.key, c.table, c.column, c.kind, c.type ?? '-', c.status]),
  );
  if (check.contentType) {
    const match = Object.entries(check.contentType.match)
      .map(([column, value]) => `${column} = '${value}'`)
      .join(', ');
    printLine();
    printLine(
      check.contentType.id === null
        ? `content type of a chat message (${match}): not found`
        : `content type of a chat message (${match}): id ${check.contentType.id}`,
    );
  }
  if (check.indexes.length > 0) {
    printLine();
    printTable(
      ['table', 'leading columns', 'index', 'why'],
      check.indexes.map((i) => [i.table, i.columns.join(', '), i.index ?? 'missing', i.reason]),
    );
  }
  printLine();
  printLine(
    check.ok
      ? `the database matches profile ${profile.name}`
      : `the database does not match profile ${profile.name}: fix the rows above (or STATCACHE_SOURCE)`,
  );
}
