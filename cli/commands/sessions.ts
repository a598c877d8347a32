/** `statcache sessions --experiment id`: a sorted page of an experiment's sessions with totals. */
import type { Command } from 'commander';
import { readOptionsFrom as readOptions } from '../../src/read/fresh/read-options.js';
import { listSessions, SESSION_SORT_KEYS, type SessionSortKey } from '../../src/read/list-sessions.js';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, type SortOrder } from '../../src/read/page-options.js';
import { setExitCode } from '../exit-codes.js';
import { formatTime, freshnessJson, freshnessLine, logLine, printJson, printTable } from '../output.js';
import { intInRange, oneOf, parseId } from '../parse-options.js';
import { assertExperimentsExist, readDbFor, runCommand } from '../run-command.js';

interface Options {
  experiment: number;
  sort?: SessionSortKey;
  order?: SortOrder;
  limit: number;
  offset: number;
  fresh?: boolean;
  json?: boolean;
}

export function registerSessions(program: Command): void {
  program
    .command('sessions')
    .description("a page of one experiment's sessions: human messages, last activity, versions")
    .requiredOption('--experiment <id>', 'experiment id', (v: string) => parseId(v))
    .option(
      '--sort <key>',
      `one of ${SESSION_SORT_KEYS.join(', ')} (default lastActivity)`,
      oneOf(SESSION_SORT_KEYS),
    )
    .option(
      '--order <order>',
      'asc or desc (default: desc for counts and times, asc for id)',
      oneOf(['asc', 'desc'] as const),
    )
    .option(
      '--limit <n>',
      `rows per page, 1-${MAX_PAGE_LIMIT}`,
      intInRange(1, MAX_PAGE_LIMIT),
      DEFAULT_PAGE_LIMIT,
    )
    .option('--offset <n>', 'rows to skip', intInRange(0, Number.MAX_SAFE_INTEGER), 0)
    .option('--fresh', 'exact now: recount what pending changes touch (read-only)')
    .option('--json', 'print one JSON document')
    .action((options: Options) =>
      runCommand({ json: options.json, reads: true }, async ({ config, db, replica, json }) => {
        const reads = readDbFor({ db, replica }, options.fresh);
        await assertExperimentsExist(reads, [options.experiment], config.source);
        const page = await listSessions(reads, {
          experimentId: options.experiment,
          ...readOptions(config, options.fresh),
          sortBy: options.sort,
          order: options.order,
          limit: options.limit,
          offset: options.offset,
        });
        const { freshness } = page;
        if (json) {
          printJson(
            page.rows.map((r) => ({
              sessionId: r.sessionId,
              humanMessages: r.humanMessages,
              lastActivityAt: r.lastActivityAt?.toISOString() ?? null,
              experimentVersions: r.experimentVersions,
              freshness: freshnessJson(freshness),
            })),
          );
        } else {
          printTable(
            ['session', 'platform', 'participant', 'human messages', 'last activity (UTC)', 'versions'],
            page.rows.map((r) => [
              r.sessionId,
              r.platform ?? '-',
              r.participantIdentifier ?? '-',
              r.humanMessages,
              formatTime(r.lastActivityAt),
              r.experimentVersions.join(', ') || '-',
            ]),
          );
          logLine(
            page.rows.length > 0
              ? `rows ${options.offset + 1}-${options.offset + page.rows.length} of ${page.total}`
              : `no rows at offset ${options.offset} (${page.total} in all)`,
          );
          logLine(freshnessLine(freshness));
        }
        return 0;
      }).then(setExitCode),
    );
}
